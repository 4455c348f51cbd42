#!/usr/bin/env python3
"""Times PyTorch's SDPA flash backend on infersim-probe's prefill-attention grid.

Writes an infersim-profile/1 file whose attention_prefill rows carry kernel "torch-sdpa-flash";
`infersim-probe merge` folds it into the probe's profile, and the predictor prefers these
engine-like rows (FlashAttention is what vLLM runs) over the probe's own kernel.

Only fresh causal prompts (query_tokens == context_tokens) are timed: SDPA's is_causal aligns the
mask top-left when the query is shorter than the keys, which is not a chunked prefill. Decode is
left to the probe's paged kernel: SDPA has no paged KV cache, and a contiguous-cache time would
pose as a paged one.

usage: python3 native/torch_sdpa_probe.py [--quick] [--gpu N] [--catalog NAME] --out FILE
"""
import argparse
import datetime
import json
import statistics
import sys

VERSION = "0.1.0"


def catalog_for(name, memory):
    if "H100" in name:
        return "h100-pcie" if "PCIe" in name else "h100-sxm"
    if "H200" in name:
        return "h200-sxm"
    if "A100" in name:
        return "a100-sxm-80gb" if memory > 60e9 else "a100-sxm-40gb"
    if "L40S" in name:
        return "l40s"
    if "A10G" in name:
        return "a10g"
    if "L4" in name:
        return "l4"
    return None


def quantile(values, q):
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--gpu", type=int, default=0)
    ap.add_argument("--catalog")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    try:
        import torch
        import torch.nn.functional as F
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError as e:
        print(f"torch_sdpa_probe: PyTorch with torch.nn.attention is needed ({e})", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("torch_sdpa_probe: no CUDA GPU visible to PyTorch", file=sys.stderr)
        return 2
    dev = torch.device("cuda", args.gpu)
    torch.cuda.set_device(dev)
    props = torch.cuda.get_device_properties(dev)
    catalog = args.catalog or catalog_for(props.name, props.total_memory)
    if not catalog:
        print(f"torch_sdpa_probe: no catalog entry known for {props.name!r}: pass --catalog", file=sys.stderr)
        return 2

    lens = [128, 512, 2048, 8192] if args.quick else [128, 256, 512, 1024, 2048, 4096, 8192]
    heads = [(32, 8), (32, 32)] if args.quick else [(32, 32), (32, 8), (64, 8)]
    flush = torch.zeros(2 * 64 << 20, dtype=torch.uint8, device=dev)  # > 2 × L2
    start = [torch.cuda.Event(enable_timing=True) for _ in range(40)]
    end = [torch.cuda.Event(enable_timing=True) for _ in range(40)]

    def time_op(fn):
        for _ in range(2):
            fn()
        torch.cuda.synchronize()
        start[0].record()
        fn()
        end[0].record()
        torch.cuda.synchronize()
        one = max(start[0].elapsed_time(end[0]) * 1e-3, 1e-6)
        reps = int(min(40, max(10, 0.03 / one)))
        for r in range(reps):
            flush.max()  # a read flush: zero_() would leave dirty L2 lines to write back during the op
            start[r].record()
            fn()
            end[r].record()
        torch.cuda.synchronize()
        t = [start[r].elapsed_time(end[r]) * 1e-3 for r in range(reps)]
        return statistics.median(t), quantile(t, 0.1), quantile(t, 0.9)

    rows = []
    gqa_note = ""
    for h, kv in heads:
        for n in lens:
            q = torch.randn(1, h, n, 128, dtype=torch.bfloat16, device=dev)
            k = torch.randn(1, kv, n, 128, dtype=torch.bfloat16, device=dev)
            v = torch.randn(1, kv, n, 128, dtype=torch.bfloat16, device=dev)
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                try:
                    fn = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=(h != kv))  # noqa: E731
                    fn()
                except (RuntimeError, TypeError):
                    # Older PyTorch: K/V expanded to every query head (prefill is compute-bound).
                    ke, ve = k.repeat_interleave(h // kv, dim=1), v.repeat_interleave(h // kv, dim=1)
                    fn = lambda: F.scaled_dot_product_attention(q, ke, ve, is_causal=True)  # noqa: E731
                    gqa_note = " GQA shapes ran with K/V expanded to every query head (enable_gqa unsupported)."
                med, p10, p90 = time_op(fn)
            rows.append({"dtype": "bf16", "seqs": 1, "query_tokens": n, "context_tokens": n, "heads": h, "kv_heads": kv,
                         "head_dim": 128, "causal": True, "time_s": med, "p10_s": p10, "p90_s": p90,
                         "kernel": "torch-sdpa-flash"})
            print(f"torch_sdpa_probe: {h}/{kv} heads, {n} tokens: {med * 1e6:.1f} us", file=sys.stderr)

    cuda = torch.version.cuda or "?"
    doc = {
        "format": "infersim-profile/1",
        "source": "measured",
        "gpu": {"catalog": catalog, "name": props.name, "memory_bytes": props.total_memory,
                "sm_count": props.multi_processor_count, "compute_capability": f"{props.major}.{props.minor}",
                "cuda_version": cuda},
        "provenance": {
            "description": f"PyTorch {torch.__version__} SDPA flash backend (torch_sdpa_probe.py {VERSION}, "
                           f"{'quick' if args.quick else 'full'} grid) on {props.name}: causal prefill with "
                           f"query_tokens == context_tokens only.{gqa_note}",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "probe_version": VERSION,
            "command": "python3 native/torch_sdpa_probe.py " + " ".join(sys.argv[1:]),
            "grid": "quick" if args.quick else "full",
        },
        "tables": {"attention_prefill": rows},
    }
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"torch_sdpa_probe: wrote {args.out} ({len(rows)} rows)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
