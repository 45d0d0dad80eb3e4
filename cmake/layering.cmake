# Enforces the layer order of docs/architecture.md: each layer may include headers of the layers listed
# for it and of no other. A violation stops the configure step, so it fails the build.
#
# Layers (lowest first): core, storage, query, retrieval, backends, runtime, commands, cli/mcp.
# Public headers live under include/khive/<layer>/, sources under src/<layer>/.
set(_khive_allowed_core      "core")
set(_khive_allowed_storage   "core;storage")
set(_khive_allowed_query     "core;storage;query")
set(_khive_allowed_retrieval "core;storage;retrieval")
set(_khive_allowed_backends  "core;storage;query;backends")
set(_khive_allowed_runtime   "core;storage;query;retrieval;backends;runtime")
set(_khive_allowed_commands  "core;storage;query;retrieval;backends;runtime;commands")
set(_khive_allowed_cli       "core;storage;query;retrieval;backends;runtime;commands;cli")
set(_khive_allowed_mcp       "core;storage;query;retrieval;backends;runtime;commands;mcp")
# src/bin holds only main(): the composition root that plugs the MCP server into the CLI.
# server (`khive serve`) puts the runtime, the command table and the MCP server on HTTP.
set(_khive_allowed_server    "core;storage;query;retrieval;backends;runtime;commands;mcp;server")
set(_khive_allowed_bin       "core;storage;query;retrieval;backends;runtime;commands;cli;mcp;server")
set(_khive_all_layers core storage query retrieval backends runtime commands cli mcp server bin)

function(khive_check_layering)
  set(errors "")
  foreach(layer IN LISTS _khive_all_layers)
    file(GLOB_RECURSE files
      "${CMAKE_SOURCE_DIR}/include/khive/${layer}/*.h"
      "${CMAKE_SOURCE_DIR}/src/${layer}/*.h"
      "${CMAKE_SOURCE_DIR}/src/${layer}/*.cc")
    foreach(f IN LISTS files)
      file(STRINGS "${f}" incs REGEX "^#include [<\"]khive/")
      foreach(inc IN LISTS incs)
        string(REGEX REPLACE "^#include [<\"]khive/([a-z_]+)/.*" "\\1" target "${inc}")
        if(NOT target IN_LIST _khive_allowed_${layer})
          string(APPEND errors "\n  ${f}: layer '${layer}' may not include '${inc}'")
        endif()
      endforeach()
    endforeach()
  endforeach()
  # Public headers never expose an engine's C API.
  file(GLOB_RECURSE public_headers "${CMAKE_SOURCE_DIR}/include/khive/*.h")
  foreach(f IN LISTS public_headers)
    file(STRINGS "${f}" bad REGEX "^#include [<\"](sqlite3\\.h|libpq-fe\\.h|faiss/)")
    if(bad)
      string(APPEND errors "\n  ${f}: public header includes an engine header: ${bad}")
    endif()
  endforeach()
  if(errors)
    message(FATAL_ERROR "khive layering violations:${errors}")
  endif()
endfunction()
