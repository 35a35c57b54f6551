# nncc_add_model(TARGET MODEL file.onnx [NAME prefix] [OPTIONS opt...])
#
# Compiles MODEL with nncc at build time into ${CMAKE_CURRENT_BINARY_DIR}/nncc_<NAME>/
# (NAME.c, NAME.h), regenerating whenever the model or nncc changes, and
# adds the generated source, its include directory and the nncc runtime to TARGET.
# NAME defaults to the model file's stem; OPTIONS are passed to nncc
# (e.g. -O0, --shape input=1x3x32x32).
function(nncc_add_model target)
  cmake_parse_arguments(ARG "" "MODEL;NAME" "OPTIONS" ${ARGN})
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "nncc_add_model(${target}): MODEL is required")
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE)
  if(NOT ARG_NAME)
    get_filename_component(ARG_NAME "${model}" NAME_WE)
    string(MAKE_C_IDENTIFIER "${ARG_NAME}" ARG_NAME)
  endif()
  if(NOT NNCC_EXECUTABLE)
    message(FATAL_ERROR "nncc_add_model: NNCC_EXECUTABLE is not set (is nncc installed?)")
  endif()
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/nncc_${ARG_NAME}")
  set(out "${dir}/${ARG_NAME}.c")
  add_custom_command(
    OUTPUT "${out}" "${dir}/${ARG_NAME}.h"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${dir}"
    COMMAND ${NNCC_EXECUTABLE} "${model}" -o "${out}" --name ${ARG_NAME} ${ARG_OPTIONS}
    DEPENDS "${model}" ${NNCC_EXECUTABLE}
    COMMENT "nncc: compiling ${ARG_MODEL}"
    VERBATIM)
  target_sources(${target} PRIVATE "${out}")
  target_include_directories(${target} PRIVATE "${dir}")
  if(TARGET nncc::nncc_runtime)
    target_link_libraries(${target} PRIVATE nncc::nncc_runtime)
  elseif(TARGET nncc_runtime)
    target_link_libraries(${target} PRIVATE nncc_runtime)
  endif()
endfunction()
