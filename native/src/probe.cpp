// The infersim-probe command line: profile (the grid, or a part of it), merge, iteration, info, grid.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include "core.hpp"
#include "grid.hpp"
#include "probe.h"

namespace probe {

namespace {

const char* USAGE =
    "usage: infersim-probe <command> [options]\n"
    "  profile [--quick] [--part K/N] [--gpu N] [--catalog NAME] [--cublas PATH] [--force] [--fake] --out FILE\n"
    "      measure the quick or full grid (or part K of N of it) into an infersim-profile/1 file;\n"
    "      a part whose --out file already exists is skipped (resumable), unless --force\n"
    "  merge A.json B.json ... --out FILE [--catalog NAME]   merge parts (and torch_sdpa_probe.py output) into one profile\n"
    "  iteration --model CONFIG.json [--prefill 2048,512] [--decode 1024x32] [--shape PREFILL:DECODE ...]\n"
    "            [--layers N] [--block-size 16] [--gpu N] [--cublas PATH] --out FILE\n"
    "      time whole transformer iterations (random bf16 weights) for the given batch shapes\n"
    "  selftest [--gpu N] [--cublas PATH]   check the kernels and cuBLASLt against CPU references\n"
    "  info [--gpu N]      describe the GPU (JSON)\n"
    "  grid [--quick] [--part K/N]   list the items a run would measure (JSON lines)\n";

struct Args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> opts;  // repeated flags keep every value
  std::set<std::string> flags;
  std::string get(const std::string& k, const std::string& dflt = "") const {
    for (auto it = opts.rbegin(); it != opts.rend(); ++it) if (it->first == k) return it->second;
    return dflt;
  }
  std::vector<std::string> all(const std::string& k) const {
    std::vector<std::string> v;
    for (auto& o : opts) if (o.first == k) v.push_back(o.second);
    return v;
  }
  bool has(const std::string& f) const { return flags.count(f) > 0; }
};

const std::set<std::string> BOOLEAN = {"--quick", "--force", "--fake", "--help", "-h"};

Args parseArgs(const std::vector<std::string>& a, size_t from) {
  Args out;
  for (size_t i = from; i < a.size(); i++) {
    const std::string& s = a[i];
    if (s.rfind("--", 0) == 0 || s == "-h") {
      auto eq = s.find('=');
      if (eq != std::string::npos) { out.opts.emplace_back(s.substr(0, eq), s.substr(eq + 1)); continue; }
      if (BOOLEAN.count(s)) { out.flags.insert(s); continue; }
      if (i + 1 >= a.size()) throw std::runtime_error(s + " needs a value");
      out.opts.emplace_back(s, a[++i]);
    } else {
      out.positional.push_back(s);
    }
  }
  return out;
}

std::string nowIso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string readFile(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void writeFile(const std::string& p, const std::string& text) {
  std::string tmp = p + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw std::runtime_error("cannot write " + p);
    f << text;
  }
  if (std::rename(tmp.c_str(), p.c_str()) != 0) throw std::runtime_error("cannot write " + p);
}

long toLong(const std::string& s, const std::string& what) {
  char* end = nullptr;
  long v = strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < 0) throw std::runtime_error(what + ": expected a non-negative integer, got \"" + s + "\"");
  return v;
}

std::pair<int, int> parsePart(const std::string& s) {
  if (s.empty()) return {1, 1};
  auto slash = s.find('/');
  if (slash == std::string::npos) throw std::runtime_error("--part: expected K/N, got \"" + s + "\"");
  int k = int(toLong(s.substr(0, slash), "--part")), n = int(toLong(s.substr(slash + 1), "--part"));
  if (n < 1 || k < 1 || k > n) throw std::runtime_error("--part: expected 1 ≤ K ≤ N, got \"" + s + "\"");
  return {k, n};
}

// The GPU catalog key (sim/hardware/catalog.ts) for a device name as the driver reports it.
std::string catalogFor(const std::string& name, double memory_bytes) {
  auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  if (has("H100")) return has("PCIe") ? "h100-pcie" : "h100-sxm";
  if (has("H200")) return "h200-sxm";
  if (has("A100")) return memory_bytes > 60e9 ? "a100-sxm-80gb" : "a100-sxm-40gb";
  if (has("L40S")) return "l40s";
  if (has("A10G")) return "a10g";
  if (has("L4")) return "l4";
  return "";
}

json::Value withCatalog(const json::Value& gpu, const std::string& catalog) {
  json::Value g = json::Value::object();
  std::string c = catalog;
  if (c.empty()) c = catalogFor(gpu.at("name").str, gpu.has("memory_bytes") ? gpu.at("memory_bytes").num : 0);
  if (c.empty()) throw std::runtime_error("no catalog entry known for \"" + gpu.at("name").str + "\": pass --catalog NAME (see sim/hardware/catalog.ts)");
  g.set("catalog", c);
  for (auto& kv : gpu.obj) if (kv.first != "catalog") g.set(kv.first, kv.second);
  return g;
}

std::string joinArgs(const std::vector<std::string>& a) {
  std::string s = "infersim-probe";
  for (auto& x : a) s += " " + x;
  return s;
}

const char* TABLES[] = {"gemm", "attention_prefill", "attention_decode", "elementwise", "memcpy", "all_reduce", "send_recv"};

// ---- profile ---------------------------------------------------------------------------------

int cmdProfile(const Args& a, const std::vector<std::string>& raw) {
  std::string out = a.get("--out");
  if (out.empty()) throw std::runtime_error("profile: give --out FILE");
  bool quick = a.has("--quick");
  auto [part, parts] = parsePart(a.get("--part"));
  if (exists(out) && !a.has("--force")) {
    try {
      json::Value prev = json::parse(readFile(out));
      if (prev.has("format") && prev.at("format").str == PROFILE_FORMAT) {
        fprintf(stderr, "infersim-probe: %s exists: part %d/%d skipped (--force to measure again)\n", out.c_str(), part, parts);
        return 0;
      }
    } catch (std::exception&) {
    }
  }
  std::string error;
  std::unique_ptr<Backend> be = a.has("--fake") ? makeFakeBackend()
                                                : makeCudaBackend(int(toLong(a.get("--gpu", "0"), "--gpu")), a.get("--cublas"), quick, error);
  if (!be) {
    fprintf(stderr, "infersim-probe: %s\n", error.c_str());
    return 2;
  }
  json::Value gpu = withCatalog(be->gpu(), a.get("--catalog", a.has("--fake") ? "h100-sxm" : ""));
  std::vector<Item> items = selectPart(buildGrid(quick), part, parts);
  std::map<std::string, json::Value> tables;
  json::Value scalars = json::Value::object();
  int failed = 0, skipped = 0;
  std::string first_failure;
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < items.size(); i++) {
    Item& it = items[i];
    if (!be->supports(it)) { skipped++; continue; }
    std::string err;
    if (!be->measure(it, err)) {
      if (failed++ == 0) first_failure = it.table + " " + json::dump(it.row).substr(0, 200) + ": " + err;
      continue;
    }
    if (it.table == "scalars") scalars.set(it.row.at("name").str, it.row.at("value"));
    else {
      auto& t = tables[it.table];
      t.kind = json::Value::Array;
      t.push(it.row);
    }
    if ((i + 1) % 100 == 0 || i + 1 == items.size()) {
      double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      fprintf(stderr, "infersim-probe: %zu/%zu items (%.0f s)\n", i + 1, items.size(), el);
    }
  }
  std::string grid = quick ? "quick" : "full";
  std::string desc = std::string("Measured by infersim-probe ") + VERSION + " (" + grid + " grid" +
                     (parts > 1 ? ", part " + std::to_string(part) + "/" + std::to_string(parts) : std::string()) + ") on " +
                     gpu.at("name").str + ". " + be->notes();
  if (skipped) desc += " " + std::to_string(skipped) + " items not supported on this GPU were skipped.";
  if (failed) desc += " " + std::to_string(failed) + " items failed (first: " + first_failure + ").";
  json::Value doc = json::Value::object();
  doc.set("format", PROFILE_FORMAT);
  doc.set("source", "measured");
  doc.set("gpu", gpu);
  json::Value prov = json::Value::object();
  prov.set("description", desc);
  prov.set("date", nowIso());
  prov.set("probe_version", VERSION);
  prov.set("command", joinArgs(raw));
  prov.set("grid", grid);
  if (parts > 1) {
    json::Value p = json::Value::array();
    p.push(std::to_string(part) + "/" + std::to_string(parts));
    prov.set("parts", p);
  }
  doc.set("provenance", prov);
  json::Value tv = json::Value::object();
  for (const char* name : TABLES) if (tables.count(name)) tv.set(name, tables[name]);
  doc.set("tables", tv);
  if (!scalars.obj.empty()) doc.set("scalars", scalars);
  writeFile(out, json::dump(doc));
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fprintf(stderr, "infersim-probe: wrote %s (%zu items, %d failed, %d skipped, %.0f s)\n", out.c_str(), items.size(), failed, skipped, el);
  return failed > 0 && size_t(failed) == items.size() ? 1 : 0;
}

// ---- merge -----------------------------------------------------------------------------------

// A row's identity: every field except the timings. Later files win on duplicates.
std::string rowKey(const json::Value& row) {
  std::string k;
  for (auto& kv : row.obj) {
    if (kv.first == "time_s" || kv.first == "p10_s" || kv.first == "p90_s") continue;
    k += kv.first + "=" + json::dump(kv.second);
  }
  return k;
}

int cmdMerge(const Args& a, const std::vector<std::string>& raw) {
  std::string out = a.get("--out");
  if (out.empty()) throw std::runtime_error("merge: give --out FILE");
  if (a.positional.empty()) throw std::runtime_error("merge: give the profile files to merge");
  json::Value gpu;
  size_t gpu_keys = 0;
  std::string catalog = a.get("--catalog");
  std::vector<std::string> grids, parts, descriptions;
  std::map<std::string, std::vector<json::Value>> tables;
  std::map<std::string, std::map<std::string, size_t>> index;
  json::Value scalars = json::Value::object();
  for (auto& path : a.positional) {
    json::Value doc = json::parse(readFile(path));
    if (!doc.has("format") || doc.at("format").str != PROFILE_FORMAT) throw std::runtime_error(path + ": not an " + PROFILE_FORMAT + " file");
    if (doc.at("source").str != "measured") throw std::runtime_error(path + ": source is \"" + doc.at("source").str + "\", not measured");
    const json::Value& g = doc.at("gpu");
    if (catalog.empty()) catalog = g.at("catalog").str;
    else if (a.get("--catalog").empty() && g.at("catalog").str != catalog)
      throw std::runtime_error(path + ": GPU " + g.at("catalog").str + " differs from " + catalog + " (pass --catalog to force)");
    if (g.obj.size() > gpu_keys) { gpu = g; gpu_keys = g.obj.size(); }
    const json::Value& prov = doc.at("provenance");
    descriptions.push_back(path.substr(path.find_last_of('/') + 1) + ": " + prov.at("description").str);
    if (prov.has("grid")) {
      std::string gname = prov.at("grid").str;
      if (std::find(grids.begin(), grids.end(), gname) == grids.end()) grids.push_back(gname);
    }
    if (prov.has("parts"))
      for (auto& p : prov.at("parts").arr)
        if (std::find(parts.begin(), parts.end(), p.str) == parts.end()) parts.push_back(p.str);
    if (doc.has("tables"))
      for (auto& t : doc.at("tables").obj)
        for (auto& row : t.second.arr) {
          std::string key = rowKey(row);
          auto& idx = index[t.first];
          auto found = idx.find(key);
          if (found != idx.end()) tables[t.first][found->second] = row;
          else { idx[key] = tables[t.first].size(); tables[t.first].push_back(row); }
        }
    if (doc.has("scalars"))
      for (auto& s : doc.at("scalars").obj) scalars.set(s.first, s.second);
  }
  std::sort(parts.begin(), parts.end());
  json::Value doc = json::Value::object();
  doc.set("format", PROFILE_FORMAT);
  doc.set("source", "measured");
  doc.set("gpu", withCatalog(gpu, catalog));
  json::Value prov = json::Value::object();
  std::string desc = "Merged by infersim-probe " + std::string(VERSION) + " from " + std::to_string(a.positional.size()) + " files.";
  for (auto& d : descriptions) desc += " [" + d + "]";
  prov.set("description", desc);
  prov.set("date", nowIso());
  prov.set("probe_version", VERSION);
  prov.set("command", joinArgs(raw));
  std::string grid;
  for (auto& g : grids) grid += (grid.empty() ? "" : "+") + g;
  if (!grid.empty()) prov.set("grid", grid);
  if (!parts.empty()) {
    json::Value p = json::Value::array();
    for (auto& s : parts) p.push(s);
    prov.set("parts", p);
  }
  doc.set("provenance", prov);
  json::Value tv = json::Value::object();
  for (const char* name : TABLES)
    if (tables.count(name)) {
      json::Value arr = json::Value::array();
      for (auto& r : tables[name]) arr.push(r);
      tv.set(name, arr);
    }
  doc.set("tables", tv);
  if (!scalars.obj.empty()) doc.set("scalars", scalars);
  writeFile(out, json::dump(doc));
  size_t rows = 0;
  for (auto& t : tables) rows += t.second.size();
  fprintf(stderr, "infersim-probe: merged %zu files into %s (%zu rows)\n", a.positional.size(), out.c_str(), rows);
  return 0;
}

// ---- iteration -------------------------------------------------------------------------------

std::vector<long> parsePrefill(const std::string& s) {
  std::vector<long> v;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) continue;
    long n = toLong(part, "--prefill");
    if (n < 1) throw std::runtime_error("--prefill: prompt lengths must be ≥ 1");
    v.push_back(n);
  }
  return v;
}

std::vector<std::pair<long, long>> parseDecode(const std::string& s) {
  std::vector<std::pair<long, long>> v;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) continue;
    auto x = part.find('x');
    long ctx = toLong(part.substr(0, x), "--decode");
    long count = x == std::string::npos ? 1 : toLong(part.substr(x + 1), "--decode");
    if (ctx < 1 || count < 1) throw std::runtime_error("--decode: contexts and counts must be ≥ 1 (e.g. 1024x32)");
    v.emplace_back(ctx, count);
  }
  return v;
}

ModelDims readModel(const std::string& path) {
  json::Value c = json::parse(readFile(path));
  auto need = [&](const char* k) {
    if (!c.has(k) || c.at(k).kind != json::Value::Number) throw std::runtime_error(path + ": " + k + " is missing");
    return long(c.at(k).num);
  };
  ModelDims m;
  m.name = path;
  m.hidden = need("hidden_size");
  m.intermediate = need("intermediate_size");
  m.heads = need("num_attention_heads");
  m.kv_heads = c.has("num_key_value_heads") && c.at("num_key_value_heads").kind == json::Value::Number ? long(c.at("num_key_value_heads").num) : m.heads;
  m.layers = need("num_hidden_layers");
  m.vocab = need("vocab_size");
  m.head_dim = c.has("head_dim") && c.at("head_dim").kind == json::Value::Number ? long(c.at("head_dim").num) : m.hidden / m.heads;
  if (c.has("_name_or_path") && c.at("_name_or_path").kind == json::Value::String) m.name = c.at("_name_or_path").str;
  return m;
}

int cmdIteration(const Args& a, const std::vector<std::string>& raw) {
  std::string out = a.get("--out"), model_path = a.get("--model");
  if (out.empty() || model_path.empty()) throw std::runtime_error("iteration: give --model CONFIG.json and --out FILE");
  ModelDims m = readModel(model_path);
  std::vector<IterationShape> shapes;
  if (!a.get("--prefill").empty() || !a.get("--decode").empty()) shapes.push_back({parsePrefill(a.get("--prefill")), parseDecode(a.get("--decode"))});
  for (auto& s : a.all("--shape")) {
    auto colon = s.find(':');
    if (colon == std::string::npos) throw std::runtime_error("--shape: expected PREFILL:DECODE (e.g. 2048,512:1024x32 or :1024x64), got \"" + s + "\"");
    shapes.push_back({parsePrefill(s.substr(0, colon)), parseDecode(s.substr(colon + 1))});
  }
  for (auto& s : shapes)
    if (s.prefill.empty() && s.decode.empty()) throw std::runtime_error("iteration: a batch shape is empty");
  if (shapes.empty()) throw std::runtime_error("iteration: give --prefill and/or --decode, or --shape PREFILL:DECODE");
  int layers = int(toLong(a.get("--layers", std::to_string(m.layers)), "--layers"));
  if (layers < 1 || layers > m.layers) throw std::runtime_error("--layers: must be between 1 and num_hidden_layers");
  int block = int(toLong(a.get("--block-size", "16"), "--block-size"));
  if (block < 1) throw std::runtime_error("--block-size: must be ≥ 1");
  json::Value res = runIteration(int(toLong(a.get("--gpu", "0"), "--gpu")), a.get("--cublas"), m, layers, shapes, block);
  json::Value doc = json::Value::object();
  doc.set("format", ITERATION_FORMAT);
  doc.set("probe_version", VERSION);
  doc.set("date", nowIso());
  doc.set("command", joinArgs(raw));
  doc.set("gpu", withCatalog(res.at("gpu"), a.get("--catalog")));
  json::Value model = json::Value::object();
  model.set("name", m.name);
  model.set("hidden_size", m.hidden);
  model.set("intermediate_size", m.intermediate);
  model.set("num_attention_heads", m.heads);
  model.set("num_key_value_heads", m.kv_heads);
  model.set("head_dim", m.head_dim);
  model.set("num_hidden_layers", m.layers);
  model.set("vocab_size", m.vocab);
  doc.set("model", model);
  doc.set("layers_timed", layers);
  doc.set("dtype", "bf16");
  doc.set("kv_dtype", "bf16");
  doc.set("block_size", block);
  doc.set("timing",
          "time_s: median CUDA-graph replay of the whole iteration (every timed layer, final norm, LM head on each "
          "sequence's last token; no sampling, no CPU work); eager_s: the same ops launched one by one");
  doc.set("shapes", res.at("shapes"));
  writeFile(out, json::dump(doc));
  fprintf(stderr, "infersim-probe: wrote %s\n", out.c_str());
  return 0;
}

int cmdGrid(const Args& a) {
  auto [part, parts] = parsePart(a.get("--part"));
  for (auto& it : selectPart(buildGrid(a.has("--quick")), part, parts)) {
    json::Value line = json::Value::object();
    line.set("table", it.table);
    line.set("row", it.row);
    std::string s = json::dump(line);
    // one line per item
    s.erase(std::remove(s.begin(), s.end(), '\n'), s.end());
    printf("%s\n", s.c_str());
  }
  return 0;
}

}  // namespace

int cliMain(const std::vector<std::string>& args) {
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      fputs(USAGE, args.empty() ? stderr : stdout);
      return args.empty() ? 2 : 0;
    }
    // `infersim-probe --quick --out F` is `infersim-probe profile --quick --out F`.
    bool implicit = args[0].rfind("--", 0) == 0;
    std::string cmd = implicit ? "profile" : args[0];
    Args a = parseArgs(args, implicit ? 0 : 1);
    if (a.has("--help") || a.has("-h")) { fputs(USAGE, stdout); return 0; }
    if (cmd == "profile") return cmdProfile(a, args);
    if (cmd == "merge") return cmdMerge(a, args);
    if (cmd == "iteration") return cmdIteration(a, args);
    if (cmd == "grid") return cmdGrid(a);
    if (cmd == "selftest") return runSelftest(int(toLong(a.get("--gpu", "0"), "--gpu")), a.get("--cublas"));
    if (cmd == "info") {
      std::string d = describeDevice(int(toLong(a.get("--gpu", "0"), "--gpu")));
      printf("%s", d.c_str());
      return d.find("\"error\"") == std::string::npos ? 0 : 2;
    }
    fprintf(stderr, "infersim-probe: unknown command \"%s\"\n%s", cmd.c_str(), USAGE);
    return 2;
  } catch (std::exception& e) {
    fprintf(stderr, "infersim-probe: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace probe

extern "C" int infersim_probe_run(int argc, const char* const* argv) {
  std::vector<std::string> args(argv, argv + argc);
  return probe::cliMain(args);
}

extern "C" const char* infersim_probe_describe(int gpu) {
  static thread_local std::string s;
  s = probe::describeDevice(gpu);
  return s.c_str();
}

extern "C" const char* infersim_probe_version(void) { return probe::VERSION; }
