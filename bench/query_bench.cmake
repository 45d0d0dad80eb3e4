# Included by bench/CMakeLists.txt: query-layer benchmarks (compile time; execution on SQLite and,
# when a server is given, PostgreSQL).
add_executable(query_bench ${CMAKE_CURRENT_LIST_DIR}/query_bench.cc)
target_include_directories(query_bench PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(query_bench PRIVATE khive_query khive_sqlite benchmark::benchmark)
if(TARGET khive_postgres)
  # The executed queries also on the PostgreSQL backend when a server is given (--pg URL or
  # $KHIVE_PG_URL).
  find_package(PostgreSQL REQUIRED)
  target_link_libraries(query_bench PRIVATE khive_postgres PostgreSQL::PostgreSQL)
  target_compile_definitions(query_bench PRIVATE KHIVE_BENCH_POSTGRES)
endif()
