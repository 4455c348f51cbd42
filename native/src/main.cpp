// The standalone `infersim-probe` for GPU hosts without Node.
#include "probe.h"

int main(int argc, char** argv) { return infersim_probe_run(argc - 1, argv + 1); }
