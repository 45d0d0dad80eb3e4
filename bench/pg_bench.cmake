# Included by bench/CMakeLists.txt: SQLite vs PostgreSQL write throughput (1..8 writers) and
# writer latency while another writer holds a long transaction.
if(TARGET khive_postgres)
  find_package(PostgreSQL REQUIRED)  # the bench switches the server's durability settings over libpq
  add_executable(pg_bench ${CMAKE_CURRENT_LIST_DIR}/pg_bench.cc)
  target_link_libraries(pg_bench PRIVATE khive_postgres khive_sqlite fmt::fmt Threads::Threads PostgreSQL::PostgreSQL)
endif()
