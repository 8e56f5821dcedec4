# install(): headers, both libraries, a CMake package and a pkg-config file.
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS nnghttp nnghttp_shared EXPORT nnghttpTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT nnghttpTargets NAMESPACE nnghttp::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nnghttp)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nnghttpConfig.cmake.in
    ${PROJECT_BINARY_DIR}/nnghttpConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nnghttp)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nnghttpConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nnghttpConfig.cmake
              ${PROJECT_BINARY_DIR}/nnghttpConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/nnghttp)

# The .pc file finds its prefix relative to itself, so an install moved to
# another prefix (cmake --install --prefix) still works.
file(RELATIVE_PATH NNGHTTP_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/nnghttp.pc.in ${PROJECT_BINARY_DIR}/nnghttp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/nnghttp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
