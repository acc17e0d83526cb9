# Builds and runs the consumer project one way (MODE): find_package against a
# tree installed with `cmake --install` from BUILD_DIR, the same from a project
# that enables only C (c_only), add_subdirectory of SOURCE_DIR, or pkg-config
# (plain compiler command lines, as a Makefile would). Run with cmake -P;
# WORK_DIR is wiped first.
cmake_minimum_required(VERSION 3.25)
foreach(var MODE SOURCE_DIR BUILD_DIR WORK_DIR GENERATOR CXX_COMPILER C_COMPILER LIBDIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake needs -D${var}=...")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(consumer "${SOURCE_DIR}/tests/packaging/consumer")

if(MODE MATCHES "^(find_package|pkgconfig|c_only)$")
  run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
  set(kernel_flavour)
  if(EXISTS "${BUILD_DIR}/c/libframealloc_c-kernel.a")
    set(kernel_flavour ${LIBDIR}/libframealloc_c-kernel.a ${LIBDIR}/pkgconfig/framealloc-c-kernel.pc)
  endif()
  foreach(f include/framealloc.h include/framealloc/framealloc.hpp ${kernel_flavour}
            ${LIBDIR}/libframealloc_hosted.a ${LIBDIR}/libframealloc_c.a
            ${LIBDIR}/cmake/framealloc/framealloc-config.cmake
            ${LIBDIR}/cmake/framealloc/framealloc-config-version.cmake
            ${LIBDIR}/pkgconfig/framealloc.pc ${LIBDIR}/pkgconfig/framealloc-c.pc)
    if(NOT EXISTS "${prefix}/${f}")
      message(FATAL_ERROR "not installed: ${f}")
    endif()
  endforeach()
endif()

set(configure ${CMAKE_COMMAND} -S "${consumer}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_C_COMPILER=${C_COMPILER}
    -DCMAKE_BUILD_TYPE=Release)
if(MODE STREQUAL "find_package")
  # Only the installed tree may be found: no package registry, no source tree.
  run(${configure} -DFRAMEALLOC_CONSUMER_MODE=find_package -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
elseif(MODE STREQUAL "c_only")
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/packaging/consumer_c_only" -B "${WORK_DIR}/build"
      -G "${GENERATOR}" -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_BUILD_TYPE=Release
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  run(${CMAKE_COMMAND} --build "${WORK_DIR}/build" --target consumer_c)
  run("${WORK_DIR}/build/consumer_c")
  message(STATUS "${run_output}")
  file(REMOVE_RECURSE "${WORK_DIR}")
  return()
elseif(MODE STREQUAL "subdirectory")
  run(${configure} -DFRAMEALLOC_CONSUMER_MODE=subdirectory -DFRAMEALLOC_SOURCE_DIR=${SOURCE_DIR})
elseif(MODE STREQUAL "pkgconfig")
  find_program(pkg_config pkg-config REQUIRED)
  set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
  run(${pkg_config} --cflags --libs framealloc)
  separate_arguments(cpp_flags UNIX_COMMAND "${run_output}")
  run(${pkg_config} --cflags --libs framealloc-c)
  separate_arguments(c_flags UNIX_COMMAND "${run_output}")
  # The .pc must leave the language standard to the user (C++20 or later).
  if(cpp_flags MATCHES "-std=")
    message(FATAL_ERROR "framealloc.pc forces a language standard: ${cpp_flags}")
  endif()
  run(${CXX_COMPILER} -std=c++23 "${consumer}/main.cpp" ${cpp_flags} -o "${WORK_DIR}/consumer_cpp23")
  run("${WORK_DIR}/consumer_cpp23")
  run(${CXX_COMPILER} -std=c++20 "${consumer}/main.cpp" ${cpp_flags} -o "${WORK_DIR}/consumer_cpp")
  run(${C_COMPILER} -std=c11 -Wall -Wextra -Werror "${consumer}/main.c" ${c_flags}
      -o "${WORK_DIR}/consumer_c")
  foreach(program consumer_cpp consumer_c)
    run("${WORK_DIR}/${program}")
    message(STATUS "${run_output}")
  endforeach()
  return()
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

# Build only the consumer's programs (and what they need).
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build" --target consumer_cpp consumer_c)
foreach(program consumer_cpp consumer_c)
  run("${WORK_DIR}/build/${program}")
  message(STATUS "${run_output}")
endforeach()
if(MODE STREQUAL "subdirectory" AND GENERATOR STREQUAL "Ninja")
  # Belt and braces: no framealloc test program is among the build's targets.
  run(${CMAKE_COMMAND} --build "${WORK_DIR}/build" --target help)
  if(run_output MATCHES "gtest|_tests:")
    message(FATAL_ERROR "framealloc test targets in a subproject build:\n${run_output}")
  endif()
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
