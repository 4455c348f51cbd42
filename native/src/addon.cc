// The Node addon: run(args) runs the probe's CLI in-process; describe(gpu) reports the device.
#include <napi.h>

#include <string>
#include <vector>

#include "probe.h"

static Napi::Value Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "run(args: string[])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < arr.Length(); i++) args.push_back(arr.Get(i).ToString().Utf8Value());
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return Napi::Number::New(env, infersim_probe_run(int(argv.size()), argv.data()));
}

static Napi::Value Describe(const Napi::CallbackInfo& info) {
  int gpu = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  return Napi::String::New(info.Env(), infersim_probe_describe(gpu));
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("run", Napi::Function::New(env, Run));
  exports.Set("describe", Napi::Function::New(env, Describe));
  exports.Set("version", Napi::String::New(env, infersim_probe_version()));
  return exports;
}

NODE_API_MODULE(infersim_native, Init)
