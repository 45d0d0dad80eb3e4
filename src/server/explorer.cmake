# The explorer page of `khive serve` (docs/explorer.md), embedded into the binary: npm ci of the
# versions pinned in tools/explorer/package-lock.json into the build directory (cytoscape.js
# for the page; puppeteer-core for the browser tests, no browser download), then
# tools/explorer/embed.mjs writes explorer_assets.cc with the bytes of web/explorer/ and
# cytoscape.min.js. -DKHIVE_EXPLORER=OFF builds without it (no npm; "/" is 404).
option(KHIVE_EXPLORER "Embed the explorer page served at / by khive serve (needs node and npm)" ON)
set(explorer_assets ${CMAKE_CURRENT_BINARY_DIR}/explorer_assets.cc)
if(KHIVE_EXPLORER)
  find_program(NODE_EXECUTABLE node REQUIRED)
  find_program(NPM_EXECUTABLE npm REQUIRED)
  set(KHIVE_EXPLORER_NPM_DIR ${CMAKE_BINARY_DIR}/explorer-npm CACHE INTERNAL "node_modules of tools/explorer")
  set(npm_stamp ${KHIVE_EXPLORER_NPM_DIR}/node_modules/.khive-lock)
  set(tools ${PROJECT_SOURCE_DIR}/tools/explorer)
  add_custom_command(OUTPUT ${npm_stamp}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${KHIVE_EXPLORER_NPM_DIR}
    COMMAND ${CMAKE_COMMAND} -E copy ${tools}/package.json ${tools}/package-lock.json ${KHIVE_EXPLORER_NPM_DIR}
    COMMAND ${CMAKE_COMMAND} -E chdir ${KHIVE_EXPLORER_NPM_DIR} ${CMAKE_COMMAND} -E env PUPPETEER_SKIP_DOWNLOAD=1
            ${NPM_EXECUTABLE} ci --no-audit --no-fund --prefer-offline --loglevel=error
    COMMAND ${CMAKE_COMMAND} -E copy ${tools}/package-lock.json ${npm_stamp}
    DEPENDS ${tools}/package.json ${tools}/package-lock.json
    COMMENT "npm ci in tools/explorer (cytoscape.js, puppeteer-core; pinned)"
    VERBATIM)
  set(web ${PROJECT_SOURCE_DIR}/web/explorer)
  set(page_files index.html app.js graph.js app.css)
  set(embed_args)
  set(embed_deps)
  foreach(f ${page_files})
    if(f STREQUAL "index.html")
      list(APPEND embed_args "/=${web}/${f}")
    else()
      list(APPEND embed_args "/explorer/${f}=${web}/${f}")
    endif()
    list(APPEND embed_deps ${web}/${f})
  endforeach()
  set(cytoscape ${KHIVE_EXPLORER_NPM_DIR}/node_modules/cytoscape/dist/cytoscape.min.js)
  list(APPEND embed_args "/explorer/cytoscape.min.js=${cytoscape}")
  add_custom_command(OUTPUT ${explorer_assets}
    COMMAND ${NODE_EXECUTABLE} ${tools}/embed.mjs ${explorer_assets} ${embed_args}
    DEPENDS ${tools}/embed.mjs ${npm_stamp} ${embed_deps}
    COMMENT "Embedding the explorer page (web/explorer, cytoscape.js)"
    VERBATIM)
else()
  file(WRITE ${explorer_assets}.in
    "#include \"server/static_files.h\"\nnamespace khive::server {\nstd::span<const StaticFile> embeddedFiles() { return {}; }\n}\n")
  configure_file(${explorer_assets}.in ${explorer_assets} COPYONLY)
endif()
target_sources(khive_server PRIVATE static_files.cc ${explorer_assets})
