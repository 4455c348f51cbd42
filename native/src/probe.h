/* The probe's C interface: what the Node addon and the standalone executable call. */
#ifndef INFERSIM_PROBE_H
#define INFERSIM_PROBE_H
#ifdef __cplusplus
extern "C" {
#endif

/* Runs `infersim-probe <argv…>` (argv excludes the program name); returns its exit status. */
int infersim_probe_run(int argc, const char* const* argv);
/* JSON describing GPU `gpu` ({"name": …} or {"error": …}); valid until the next call on this thread. */
const char* infersim_probe_describe(int gpu);
const char* infersim_probe_version(void);

#ifdef __cplusplus
}
#endif
#endif
