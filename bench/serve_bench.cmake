# `khive serve` under keep-alive load (serve_bench.cc): a standalone HTTP client; it starts the
# khive binary it is given.
add_executable(serve_bench serve_bench.cc)
target_link_libraries(serve_bench PRIVATE nlohmann_json::nlohmann_json Threads::Threads)
