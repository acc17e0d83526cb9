# Builds kernel_unit.cpp as a kernel would (freestanding, no runtime), links it
# with no libc or libstdc++, and fails if anything beyond the documented hooks
# is needed or if any run-time constructor (.init_array) was emitted.
# Usage: cmake -DCXX=... -DSRC=... -DINC=... -DOUT=... -P check.cmake
execute_process(
  COMMAND ${CXX} -std=c++20 -O2 -ffreestanding -fno-exceptions -fno-rtti -nostdlib -static
          -fno-stack-protector -fno-threadsafe-statics -fno-pic -Wl,-no-pie
          -Wall -Wextra -Wpedantic -Werror -I${INC} ${SRC} -o ${OUT}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "freestanding build or link failed:\n${out}${err}")
endif()
execute_process(COMMAND nm -u ${OUT} OUTPUT_VARIABLE undefined)
if(NOT undefined STREQUAL "")
  message(FATAL_ERROR "undefined symbols in the freestanding link:\n${undefined}")
endif()
execute_process(COMMAND readelf -S ${OUT} OUTPUT_VARIABLE sections)
if(sections MATCHES "init_array|\\.ctors")
  message(FATAL_ERROR "the core needs a run-time constructor (.init_array found)")
endif()
message(STATUS "freestanding link ok: no runtime, no undefined symbols, no constructors")
