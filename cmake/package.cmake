# Debian package: `cpack -G DEB` in the build folder writes hspy_<version>_<arch>.deb holding
# what `cmake --install` installs, under /usr. Its Depends line is computed from the binary by
# dpkg-shlibdeps (package dpkg-dev; CPack also needs the `file` program), so it names exactly
# the runtime libraries hspy links (libuv1, libncursesw6, libpcap0.8, zlib1g, libbrotli1,
# libzstd1, libjansson4, libc6) at the versions this build needs.

set(HSPY_PACKAGE_MAINTAINER "hspy maintainers <maintainers@hspy.invalid>"
    CACHE STRING "Maintainer field of the Debian package (\"Name <email>\")")

set(CPACK_PACKAGE_NAME hspy)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "hspy")
set(CPACK_PACKAGE_CONTACT ${HSPY_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "HTTP/1.x inspection and debugging tool for the terminal")
set(CPACK_PACKAGE_DESCRIPTION
    "hspy shows HTTP/1.x traffic exactly as it crossed the wire: as an echo and\n"
    "mock server (hspy listen), as an inspecting proxy (hspy proxy) and as a reader\n"
    "of pcap, pcapng and HAR files (hspy read). A lenient parser records every\n"
    "deviation from RFC 9110/9112 as a warning with its byte offset, and hspy lint\n"
    "explains what is wrong with a message.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_FILE_NAME "${CPACK_PACKAGE_NAME}-${PROJECT_VERSION}") # non-DEB generators

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # hspy_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${HSPY_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Files owned by root, not by whoever ran cpack.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/tests/fuzz/artifacts/")

include(CPack)
