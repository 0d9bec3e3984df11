# Renders the man page at build time (run with cmake -P from the hspy_man target):
#   -DSCDOC=path -DINPUT=hspy.1.scd -DOUTPUT=hspy.1 -DVERSION=x.y.z [-DGZIP=path]
# scdoc reads standard input and writes standard output, which add_custom_command cannot
# redirect portably; execute_process can. "@HSPY_VERSION@" in the source becomes VERSION, so
# the page names the version it describes. With GZIP, OUTPUT.gz is written too (gzip -9n: no
# name or time stamp inside, so the same source gives the same bytes).
file(READ "${INPUT}" text)
string(REPLACE "@HSPY_VERSION@" "${VERSION}" text "${text}")
file(WRITE "${OUTPUT}.scd" "${text}")
execute_process(COMMAND "${SCDOC}"
    INPUT_FILE "${OUTPUT}.scd" OUTPUT_FILE "${OUTPUT}" ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    file(REMOVE "${OUTPUT}")
    message(FATAL_ERROR "scdoc failed on ${INPUT}: ${err}")
endif()
if(GZIP)
    execute_process(COMMAND "${GZIP}" -9nc "${OUTPUT}" OUTPUT_FILE "${OUTPUT}.gz" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "gzip failed on ${OUTPUT}")
    endif()
endif()
