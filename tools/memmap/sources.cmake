# The sources of the hosted memory-map readers, in one list: the tools build
# them as a library, and the nested libFuzzer build (tests/fuzz) compiles
# them into its seed generator and text-reader target.
set(framealloc_memmap_text_files
  acpi_builder.cpp
  dt_lines.cpp
  fdt_builder.cpp
  firmware_lines.cpp
  memmap_text.cpp
  pasted_lines.cpp
  regions_command.cpp
  table_lines.cpp
  this_machine.cpp)
