// A small JSON value with a parser and a writer: enough for profiles (objects, arrays, strings,
// numbers, booleans, null). Objects keep their keys in insertion order so files diff cleanly.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace json {

struct Value {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Value> arr;
  std::vector<std::pair<std::string, Value>> obj;

  Value() = default;
  Value(bool v) : kind(Bool), b(v) {}
  Value(double v) : kind(Number), num(v) {}
  Value(int v) : kind(Number), num(v) {}
  Value(long v) : kind(Number), num(double(v)) {}
  Value(long long v) : kind(Number), num(double(v)) {}
  Value(unsigned long v) : kind(Number), num(double(v)) {}
  Value(unsigned long long v) : kind(Number), num(double(v)) {}
  Value(const char* v) : kind(String), str(v) {}
  Value(std::string v) : kind(String), str(std::move(v)) {}

  static Value array() { Value v; v.kind = Array; return v; }
  static Value object() { Value v; v.kind = Object; return v; }

  bool has(const std::string& key) const {
    for (auto& kv : obj) if (kv.first == key) return true;
    return false;
  }
  const Value& at(const std::string& key) const {
    for (auto& kv : obj) if (kv.first == key) return kv.second;
    throw std::runtime_error("missing key \"" + key + "\"");
  }
  Value& set(const std::string& key, Value v) {
    kind = Object;
    for (auto& kv : obj) if (kv.first == key) { kv.second = std::move(v); return kv.second; }
    obj.emplace_back(key, std::move(v));
    return obj.back().second;
  }
  Value& push(Value v) { kind = Array; arr.push_back(std::move(v)); return arr.back(); }
};

inline void escape(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20) { char buf[8]; snprintf(buf, sizeof buf, "\\u%04x", c); out += buf; }
    else out += char(c);
  }
  out += '"';
}

inline void number(std::string& out, double d) {
  if (!std::isfinite(d)) { out += "null"; return; }
  char buf[32];
  if (d == std::floor(d) && std::fabs(d) < 9.007e15) snprintf(buf, sizeof buf, "%.0f", d);
  else snprintf(buf, sizeof buf, "%.6g", d);
  out += buf;
}

// Rows (objects whose values are all scalars) go on one line each; everything else is indented.
inline bool flat(const Value& v) {
  if (v.kind != Value::Object) return false;
  for (auto& kv : v.obj) if (kv.second.kind == Value::Array || kv.second.kind == Value::Object) return false;
  return true;
}

inline void write(std::string& out, const Value& v, int indent) {
  std::string pad(indent, ' '), inner(indent + 2, ' ');
  switch (v.kind) {
    case Value::Null: out += "null"; break;
    case Value::Bool: out += v.b ? "true" : "false"; break;
    case Value::Number: number(out, v.num); break;
    case Value::String: escape(out, v.str); break;
    case Value::Array: {
      if (v.arr.empty()) { out += "[]"; break; }
      bool scalars = true;
      for (auto& e : v.arr) if (e.kind == Value::Array || e.kind == Value::Object) scalars = false;
      if (scalars) {
        out += '[';
        for (size_t i = 0; i < v.arr.size(); i++) { if (i) out += ", "; write(out, v.arr[i], 0); }
        out += ']';
        break;
      }
      out += "[\n";
      for (size_t i = 0; i < v.arr.size(); i++) {
        out += inner;
        write(out, v.arr[i], indent + 2);
        out += i + 1 < v.arr.size() ? ",\n" : "\n";
      }
      out += pad + "]";
      break;
    }
    case Value::Object: {
      if (v.obj.empty()) { out += "{}"; break; }
      if (flat(v)) {
        out += "{ ";
        for (size_t i = 0; i < v.obj.size(); i++) {
          if (i) out += ", ";
          escape(out, v.obj[i].first);
          out += ": ";
          write(out, v.obj[i].second, 0);
        }
        out += " }";
        break;
      }
      out += "{\n";
      for (size_t i = 0; i < v.obj.size(); i++) {
        out += inner;
        escape(out, v.obj[i].first);
        out += ": ";
        write(out, v.obj[i].second, indent + 2);
        out += i + 1 < v.obj.size() ? ",\n" : "\n";
      }
      out += pad + "}";
      break;
    }
  }
}

inline std::string dump(const Value& v) { std::string out; write(out, v, 0); out += '\n'; return out; }

class Parser {
 public:
  explicit Parser(const std::string& text) : s(text) {}
  Value parse() {
    Value v = value();
    ws();
    if (i != s.size()) fail("trailing characters");
    return v;
  }

 private:
  const std::string& s;
  size_t i = 0;
  [[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("JSON: ") + what + " at offset " + std::to_string(i)); }
  void ws() { while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++; }
  bool lit(const char* w) {
    size_t n = strlen(w);
    if (s.compare(i, n, w) == 0) { i += n; return true; }
    return false;
  }
  Value value() {
    ws();
    if (i >= s.size()) fail("unexpected end");
    char c = s[i];
    if (c == '{') {
      i++;
      Value v = Value::object();
      ws();
      if (i < s.size() && s[i] == '}') { i++; return v; }
      for (;;) {
        ws();
        if (i >= s.size() || s[i] != '"') fail("expected a key");
        std::string k = string();
        ws();
        if (i >= s.size() || s[i] != ':') fail("expected ':'");
        i++;
        v.obj.emplace_back(k, value());
        ws();
        if (i < s.size() && s[i] == ',') { i++; continue; }
        if (i < s.size() && s[i] == '}') { i++; return v; }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      i++;
      Value v = Value::array();
      ws();
      if (i < s.size() && s[i] == ']') { i++; return v; }
      for (;;) {
        v.arr.push_back(value());
        ws();
        if (i < s.size() && s[i] == ',') { i++; continue; }
        if (i < s.size() && s[i] == ']') { i++; return v; }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') return Value(string());
    if (lit("true")) return Value(true);
    if (lit("false")) return Value(false);
    if (lit("null")) return Value();
    char* end = nullptr;
    double d = strtod(s.c_str() + i, &end);
    if (end == s.c_str() + i) fail("unexpected character");
    i = size_t(end - s.c_str());
    return Value(d);
  }
  std::string string() {
    i++;  // opening quote
    std::string out;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c != '\\') { out += c; continue; }
      if (i >= s.size()) fail("bad escape");
      char e = s[i++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          unsigned code = std::stoul(s.substr(i, 4), nullptr, 16);
          i += 4;
          if (code < 0x80) out += char(code);
          else if (code < 0x800) { out += char(0xC0 | (code >> 6)); out += char(0x80 | (code & 0x3F)); }
          else { out += char(0xE0 | (code >> 12)); out += char(0x80 | ((code >> 6) & 0x3F)); out += char(0x80 | (code & 0x3F)); }
          break;
        }
        default: out += e;
      }
    }
    if (i >= s.size()) fail("unterminated string");
    i++;
    return out;
  }
};

inline Value parse(const std::string& text) { return Parser(text).parse(); }

}  // namespace json
