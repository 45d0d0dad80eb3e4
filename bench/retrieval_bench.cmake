# Retrieval benchmark (issue 3): FAISS-backed vector search, FTS5, hybrid. Included by
# bench/CMakeLists.txt when present.
find_package(OpenMP REQUIRED COMPONENTS CXX)
add_executable(retrieval_bench retrieval_bench.cc)
target_include_directories(retrieval_bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(retrieval_bench PRIVATE khive_retrieval khive_embedding khive_sqlite OpenMP::OpenMP_CXX fmt::fmt)
if(TARGET khive_postgres)
  # The text and (with pgvector) vector measures also on PostgreSQL when a server is given
  # (--pg URL or $KHIVE_PG_URL), and the vector part on PGlite ($KHIVE_PGLITE_URL).
  find_package(PostgreSQL REQUIRED)
  target_link_libraries(retrieval_bench PRIVATE khive_postgres PostgreSQL::PostgreSQL)
  target_compile_definitions(retrieval_bench PRIVATE KHIVE_BENCH_POSTGRES)
endif()
