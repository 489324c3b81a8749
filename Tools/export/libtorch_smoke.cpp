// Smoke test: the exported pack loads and runs in Debian's libtorch 1.13 from C++ (what the Swift shim will call).
// g++ -std=c++17 -O1 -D_GLIBCXX_USE_CXX11_ABI=1 -I/usr/include/torch/csrc/api/include Tools/export/libtorch_smoke.cpp \
//     -o /tmp/libtorch_smoke -ltorch -ltorch_cpu -lc10 && /tmp/libtorch_smoke DIR/joe-medium/synthesizer.ts
// Prints samples, frames (sum of durations) and sum|audio| for 4 lengths, noise off; the Python side gives the same.
#include <torch/script.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <chrono>
#include <ATen/Parallel.h>
#include <iostream>
int main(int argc, char** argv) {
  torch::jit::setGraphExecutorOptimize(false);
  at::set_num_threads(1);
  torch::NoGradGuard ng;
  auto m = torch::jit::load(argv[1]);
  m.eval();
  for (int n : {9, 51, 201, 601}) {
    auto ids = torch::zeros({1, n}, torch::kLong);
    // same pattern as the python probe: ^ _ p _ p ... $
    for (int i = 2; i < n - 1; i += 2) ids[0][i] = 20 + ((i - 2) / 2) % 100;
    ids[0][0] = 1; ids[0][n - 1] = 2;
    auto t0 = std::chrono::steady_clock::now();
    auto out = m.forward({ids, 0.0, 1.0, 0.0}).toTuple();
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto audio = out->elements()[0].toTensor();
    auto dur = out->elements()[1].toTensor();
    std::cout << n << " samples " << audio.size(1) << " frames " << dur.sum().item<float>()
              << " abs-sum " << audio.abs().sum().item<double>() << " seconds " << dt << std::endl;
  }
}
