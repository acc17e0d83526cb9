# Install rules and package files: headers, the hosted and C libraries, a CMake
# package (find_package(framealloc) giving framealloc::framealloc,
# framealloc::hosted and framealloc::c) and two pkg-config files (framealloc
# for C++, framealloc-c for C). Included by the root CMakeLists.txt.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(framealloc_root "${CMAKE_CURRENT_LIST_DIR}/..")
set(framealloc_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/framealloc")

install(DIRECTORY "${framealloc_root}/include/framealloc"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp")

set_target_properties(framealloc_hosted PROPERTIES EXPORT_NAME hosted OUTPUT_NAME framealloc_hosted)

set(framealloc_install_targets framealloc framealloc_hosted)
if(TARGET framealloc_c)
  list(APPEND framealloc_install_targets framealloc_c)
  install(FILES "${framealloc_root}/c/include/framealloc.h"
          DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
endif()

install(TARGETS ${framealloc_install_targets}
        EXPORT framealloc-targets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
        INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT framealloc-targets
        NAMESPACE framealloc::
        FILE framealloc-targets.cmake
        DESTINATION "${framealloc_cmake_dir}")

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/framealloc-config.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/framealloc-config.cmake"
  INSTALL_DESTINATION "${framealloc_cmake_dir}")
# 0.x: a new minor version may break the interface.
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/framealloc-config-version.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/framealloc-config.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/framealloc-config-version.cmake"
        DESTINATION "${framealloc_cmake_dir}")

# pkg-config files find the prefix from their own place (${pcfiledir}), so
# `cmake --install --prefix` and a moved tree both work.
file(RELATIVE_PATH framealloc_pc_up "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" framealloc_pc_up "${framealloc_pc_up}")
foreach(pc framealloc framealloc-c)
  if(pc STREQUAL "framealloc-c" AND NOT TARGET framealloc_c)
    continue()
  endif()
  configure_file("${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in"
                 "${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc" @ONLY)
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc"
          DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endforeach()
