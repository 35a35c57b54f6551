# install_samples.cmake - run by CTest (see CMakeLists.txt here):
#   cmake -DNNCC_BINARY_DIR=... -DSAMPLES_DIR=... -DWORK_DIR=... -DGENERATOR=...
#         -DC_COMPILER=... [-DFLAGS=...] -P install_samples.cmake
function(run what)
  message(STATUS "install_samples: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_samples: ${what} failed (${rc})")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/samples-build")

run("install into ${prefix}"
  ${CMAKE_COMMAND} --install "${NNCC_BINARY_DIR}" --prefix "${prefix}")
foreach(f bin/nncc include/nncc/nncc_runtime.h)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "install_samples: ${prefix}/${f} was not installed")
  endif()
endforeach()
run("configure samples/ against the installed package"
  ${CMAKE_COMMAND} -S "${SAMPLES_DIR}" -B "${build}" -G "${GENERATOR}"
  "-DCMAKE_C_COMPILER=${C_COMPILER}" "-DCMAKE_PREFIX_PATH=${prefix}"
  "-DCMAKE_C_FLAGS=${FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${FLAGS}")
run("build samples/" ${CMAKE_COMMAND} --build "${build}")
# the model nncc_add_model generated must come from the installed nncc
file(READ "${build}/CMakeCache.txt" cache)
if(NOT cache MATCHES "NNCC_EXECUTABLE:FILEPATH=${prefix}/bin/nncc")
  message(FATAL_ERROR "install_samples: the samples did not use ${prefix}/bin/nncc")
endif()
run("classify, batch 1" "${build}/classify" "${SAMPLES_DIR}/feature_extractor.input.npy"
  --expect "${SAMPLES_DIR}/feature_extractor.output.npy")
run("classify, batch 4" "${build}/classify" "${SAMPLES_DIR}/feature_extractor.input4.npy"
  --expect "${SAMPLES_DIR}/feature_extractor.output4.npy")
