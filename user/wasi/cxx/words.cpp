// A C++ program as people write them (libc++: iostreams with their locale, strings, hash maps,
// sorting with lambdas, virtual calls, std::function, unique_ptr, <random>, file streams, global
// constructors), built by test/personality/cxx-program.test.ts with Debian's clang++ and its WASI
// libc++, and run under `dogma run` beside node:wasi: both must print the same.
//   words [FILE]: counts the words of FILE (else of a text it makes), then the rest.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

// Built before main runs (__wasm_call_ctors): the program checks that it was.
struct Registry {
  std::vector<std::string> names;
  Registry() { names.push_back("constructed before main"); }
};
Registry registry;

struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
  virtual std::string name() const = 0;
};
struct Circle : Shape {
  double r;
  explicit Circle(double r) : r(r) {}
  double area() const override { return 3.14159265358979 * r * r; }
  std::string name() const override { return "circle"; }
};
struct Rect : Shape {
  double w, h;
  Rect(double w, double h) : w(w), h(h) {}
  double area() const override { return w * h; }
  std::string name() const override { return "rect"; }
};

std::string madeText() {
  std::string text;
  for (int i = 0; i < 20000; i++) text += "lorem ipsum dolor sit amet " + std::to_string(i % 977) + " ";
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  std::cout << registry.names.front() << "\n";
  std::string text;
  if (argc > 1) {
    std::ifstream in(argv[1]);
    if (!in) {
      std::cerr << "words: cannot open " << argv[1] << "\n";
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  } else {
    text = madeText();
  }
  std::unordered_map<std::string, int> counts;
  std::istringstream words(text);
  std::string w;
  while (words >> w) counts[w]++;
  std::vector<std::pair<std::string, int>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  for (size_t i = 0; i < std::min<size_t>(5, sorted.size()); i++) std::cout << sorted[i].first << " " << sorted[i].second << "\n";
  std::map<size_t, std::vector<std::string>> byLength;
  for (const auto& [word, n] : sorted) byLength[word.size()].push_back(word);
  for (const auto& [length, list] : byLength) std::printf("length %zu: %zu words\n", length, list.size());

  std::vector<std::unique_ptr<Shape>> shapes;
  for (int i = 1; i <= 5; i++) {
    shapes.push_back(std::make_unique<Circle>(i));
    shapes.push_back(std::make_unique<Rect>(i, i + 1));
  }
  double total = 0;
  for (const auto& s : shapes) total += s->area();
  std::printf("total area %.3f of %zu shapes, the last a %s\n", total, shapes.size(), shapes.back()->name().c_str());

  std::function<long(int)> fib = [&](int n) -> long { return n < 2 ? n : fib(n - 1) + fib(n - 2); };
  std::cout << "fib(24) = " << fib(24) << std::endl;

  std::mt19937 random(12345);
  std::vector<unsigned> numbers(100000);
  for (auto& n : numbers) n = random();
  std::sort(numbers.begin(), numbers.end());
  std::cout << "sorted " << numbers.size() << " numbers: " << numbers.front() << " .. " << numbers.back()
            << ", sum mod 2^32 " << std::accumulate(numbers.begin(), numbers.end(), 0u) << "\n";

  {
    std::ofstream out("words-out.txt");
    out << "distinct words: " << sorted.size() << "\n";
  }
  std::ifstream back("words-out.txt");
  std::string line;
  std::getline(back, line);
  std::cout << "read back: " << line << "\n";
  return 0;
}
