# What `cmake --install` puts under the prefix, besides bin/hspy:
#   share/man/man1/hspy.1.gz                  man page, rendered from docs/hspy.1.scd by scdoc
#                                             (plain hspy.1 when gzip is missing)
#   share/bash-completion/completions/hspy    bash completion (scripts/completion/hspy.bash)
#   share/doc/hspy/                           README.md and docs/*.md
# Without scdoc the build still succeeds, without the man page, and says so at configure time.

cmake_policy(PUSH)
if(POLICY CMP0109)
    cmake_policy(SET CMP0109 NEW) # a program that is not executable is not found
endif()
find_program(SCDOC_EXECUTABLE scdoc)
find_program(GZIP_EXECUTABLE gzip)
cmake_policy(POP)
set(HSPY_MAN_SOURCE ${PROJECT_SOURCE_DIR}/docs/hspy.1.scd)
set(HSPY_MAN_PAGE ${PROJECT_BINARY_DIR}/docs/hspy.1)

if(SCDOC_EXECUTABLE)
    set(man_outputs ${HSPY_MAN_PAGE})
    set(man_installed ${HSPY_MAN_PAGE})
    set(gzip_arg)
    if(GZIP_EXECUTABLE)
        list(APPEND man_outputs ${HSPY_MAN_PAGE}.gz)
        set(man_installed ${HSPY_MAN_PAGE}.gz)
        set(gzip_arg -DGZIP=${GZIP_EXECUTABLE})
    endif()
    add_custom_command(OUTPUT ${man_outputs}
        COMMAND ${CMAKE_COMMAND} -DSCDOC=${SCDOC_EXECUTABLE} -DINPUT=${HSPY_MAN_SOURCE}
            -DOUTPUT=${HSPY_MAN_PAGE} -DVERSION=${PROJECT_VERSION} ${gzip_arg}
            -P ${PROJECT_SOURCE_DIR}/cmake/scdoc.cmake
        DEPENDS ${HSPY_MAN_SOURCE} ${PROJECT_SOURCE_DIR}/cmake/scdoc.cmake
        COMMENT "Rendering the man page hspy(1) with scdoc"
        VERBATIM)
    add_custom_target(hspy_man ALL DEPENDS ${man_outputs})
    install(FILES ${man_installed} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
    set(HSPY_MAN_BUILT ON CACHE INTERNAL "the man page is rendered by this build")
else()
    message(WARNING "scdoc not found: building without the man page hspy(1). "
        "Install it (Debian: apt-get install scdoc) and configure again to get it.")
    set(HSPY_MAN_BUILT OFF CACHE INTERNAL "the man page is rendered by this build")
endif()

install(FILES ${PROJECT_SOURCE_DIR}/scripts/completion/hspy.bash
    DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME hspy)

file(GLOB HSPY_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${HSPY_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})
