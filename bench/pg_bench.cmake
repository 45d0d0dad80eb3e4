# Included by bench/CMakeLists.txt: SQLite vs PostgreSQL write throughput (1..8 writers) and
# writer latency while another writer holds a long transaction.
if(TARGET khive_postgres)
  add_executable(pg_bench ${CMAKE_CURRENT_LIST_DIR}/pg_bench.cc)
  target_link_libraries(pg_bench PRIVATE khive_postgres khive_sqlite fmt::fmt Threads::Threads)
endif()
