# Included by bench/CMakeLists.txt: query-layer benchmarks (compile time; execution on SQLite).
add_executable(query_bench ${CMAKE_CURRENT_LIST_DIR}/query_bench.cc)
target_include_directories(query_bench PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(query_bench PRIVATE khive_query khive_sqlite benchmark::benchmark)
