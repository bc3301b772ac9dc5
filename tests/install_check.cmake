# `cmake --install` into a fresh prefix gives a dbsplit that runs from there and
# reports the project's version (templates and playbooks are inside the binary).
# Run by ctest as install.runs_from_its_prefix; BUILD, PREFIX and VERSION are set.
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD}" --prefix "${PREFIX}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
execute_process(COMMAND "${PREFIX}/bin/dbsplit" --version WORKING_DIRECTORY "${PREFIX}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out)
string(STRIP "${out}" out)
if(NOT rc EQUAL 0 OR NOT out STREQUAL "dbsplit ${VERSION}")
  message(FATAL_ERROR "installed dbsplit --version: exit ${rc}, \"${out}\" (want \"dbsplit ${VERSION}\")")
endif()
if(NOT EXISTS "${PREFIX}/share/doc/dbsplit/exit-codes.md")
  message(FATAL_ERROR "the docs were not installed under ${PREFIX}/share/doc/dbsplit")
endif()
file(REMOVE_RECURSE "${PREFIX}")
