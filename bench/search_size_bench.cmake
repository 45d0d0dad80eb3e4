# Search cost against document size (issue 17): a benchmark program, not a test.
add_executable(search_size_bench search_size_bench.cc)
target_include_directories(search_size_bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(search_size_bench PRIVATE khive_sqlite fmt::fmt)
if(TARGET khive_postgres)
  find_package(PostgreSQL REQUIRED)
  target_link_libraries(search_size_bench PRIVATE khive_postgres PostgreSQL::PostgreSQL)
  target_compile_definitions(search_size_bench PRIVATE KHIVE_BENCH_POSTGRES)
endif()
