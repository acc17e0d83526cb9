# Install rules and package files: headers, the hosted and C libraries, a CMake
# package (find_package(framealloc) giving framealloc::framealloc,
# framealloc::hosted, framealloc::c and framealloc::c_kernel, each when it was
# built) and pkg-config files (framealloc for C++, framealloc-c for hosted C,
# framealloc-c-kernel for C kernels). Included by the root CMakeLists.txt.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(framealloc_root "${CMAKE_CURRENT_LIST_DIR}/..")
set(framealloc_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/framealloc")

install(DIRECTORY "${framealloc_root}/include/framealloc"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp")

set(framealloc_install_targets framealloc)
if(TARGET framealloc_hosted)
  set_target_properties(framealloc_hosted PROPERTIES EXPORT_NAME hosted OUTPUT_NAME framealloc_hosted)
  list(APPEND framealloc_install_targets framealloc_hosted)
endif()
if(TARGET framealloc_c)
  list(APPEND framealloc_install_targets framealloc_c)
  install(FILES "${framealloc_root}/c/include/framealloc.h"
          DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
endif()
if(TARGET framealloc_c_kernel)
  list(APPEND framealloc_install_targets framealloc_c_kernel)
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
set(framealloc_pc_files framealloc)
if(TARGET framealloc_c AND TARGET framealloc_hosted)
  list(APPEND framealloc_pc_files framealloc-c)
endif()
if(TARGET framealloc_c_kernel)
  list(APPEND framealloc_pc_files framealloc-c-kernel)
endif()
set(framealloc_pc_libs "")
if(TARGET framealloc_hosted)
  set(framealloc_pc_libs "-L\${libdir} -lframealloc_hosted")
endif()
foreach(pc IN LISTS framealloc_pc_files)
  configure_file("${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in"
                 "${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc" @ONLY)
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc"
          DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endforeach()
