/**
 * Per-GPU-hour on-demand list prices for `infersim plan`, one preset per cloud, keyed by the GPU
 * catalog's names (sim/hardware/catalog.ts). Per-GPU price = instance price / GPUs per instance,
 * written as that division so the instance price and GPU count stay visible. Linux, shared tenancy,
 * no commitment, no Spot. A preset lists only the GPUs a dated source was found for; a plan that
 * searches a GPU its preset lacks is refused unless it prices that GPU itself. Where a GPU comes in several sizes, the smallest instance
 * holding it is used (the cheapest per GPU), except where noted. Prices change: check `as_of`.
 */
export interface PricePreset {
  describe: string;
  source: string;
  as_of: string; // YYYY-MM-DD
  region: string;
  usd_per_gpu_hour: Record<string, number>;
}

export const PRICE_PRESETS: Record<string, PricePreset> = {
  aws: {
    describe: 'AWS EC2 on-demand, us-east-1, after the June 2025 P4/P5 price cut',
    source: 'AWS Price List API, AmazonEC2 us-east-1 offer file version 20260924211011 '
      + '(https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json), '
      + 'as transcribed in a public rate table checked against it; P4/P5 rows also in '
      + 'github.com/datareceipts/data-receipts 109-gpu-pricing/hyperscalers.json (retrieved 2026-11-09)',
    as_of: '2026-09-24',
    region: 'us-east-1',
    usd_per_gpu_hour: {
      // p5.48xlarge, 8x H100 SXM 80GB: $55.04/h (was $98.32 before the June 2025 cut).
      // Same figure in datareceipts hyperscalers.json, retrieved 2026-11-09.
      'h100-sxm': 55.04 / 8,
      // p5en.48xlarge, 8x H200 141GB: $63.296/h. Also `dstack offer` output in dstackai/dstack
      // PR #4110 (2026-08-06): us-east-1 on-demand $63.296. p5e.48xlarge has no us-east-1
      // on-demand listing in that offer file.
      'h200-sxm': 63.296 / 8,
      // p4d.24xlarge, 8x A100 SXM 40GB: $21.957642/h (datareceipts, 2026-11-09: the same).
      'a100-sxm-40gb': 21.957642 / 8,
      // p4de.24xlarge, 8x A100 SXM 80GB: $27.44705/h (datareceipts, 2026-11-09: the same).
      'a100-sxm-80gb': 27.44705 / 8,
      // g6e.xlarge, 1x L40S: $1.861/h (g6e.48xlarge, 8x L40S: $30.13118/h, $3.77 per GPU).
      'l40s': 1.861 / 1,
      // g5.xlarge, 1x A10G: $1.006/h (factualminds.com "Amazon EC2 On-Demand Pricing ... (2026)",
      // 2026-06-17: the same). g5.48xlarge, 8x A10G: $16.288/h, $2.04 per GPU.
      'a10g': 1.006 / 1,
      // g6.xlarge, 1x L4: $0.8048/h (g6.48xlarge, 8x L4: $13.3504/h, $1.67 per GPU).
      'l4': 0.8048 / 1,
    },
  },
  gcp: {
    describe: 'Google Cloud Compute Engine on-demand, us-central1 (accelerator-optimized machine types)',
    source: 'Google Cloud Billing Catalog API via github.com/Cyclenerd/google-cloud-pricing-cost-calculator '
      + 'pricing.yml, commit fd66b26ff84fee5cdd94f341ea89206e76c06b99 (generated 2026-07-30); '
      + 'H200: huggingface.co/datasets/tanod/cloud-gpu-list-prices (snapshot 2026-10-13, same API)',
    as_of: '2026-07-30',
    region: 'us-central1',
    usd_per_gpu_hour: {
      // a3-highgpu-8g, 8x H100 80GB (208 vCPU, 1872 GB, 6 TB local SSD): $88.49/h.
      'h100-sxm': 88.49 / 8,
      // a3-ultragpu-8g, 8x H200 141GB: $10.4365 per GPU-hour (the source's per-GPU share of the
      // machine), from the 2026-10-13 snapshot, not the 2026-07-30 file (which lacks A3 Ultra).
      'h200-sxm': 10.4365,
      // a2-highgpu-8g, 8x A100 40GB (96 vCPU, 680 GB): $29.38708/h; a2-highgpu-1g is $3.673385/h,
      // the same per GPU.
      'a100-sxm-40gb': 29.38708 / 8,
      // a2-ultragpu-8g, 8x A100 80GB (96 vCPU, 1360 GB, 3 TB local SSD): $40.5503831/h.
      'a100-sxm-80gb': 40.5503831 / 8,
      // g2-standard-4, 1x L4 (4 vCPU, 16 GB): $0.706832255/h (g2-standard-96, 8x L4: $8.0033/h,
      // $1.00 per GPU).
      'l4': 0.706832255 / 1,
    },
  },
  azure: {
    describe: 'Azure VMs pay-as-you-go, Linux, East US (ND-series)',
    source: 'Azure Retail Prices, as recorded in github.com/datareceipts/data-receipts 109-gpu-pricing '
      + '(hyperscalers.json / compare.json, retrieved 2026-11-09; its Azure rows read are all eastus)',
    as_of: '2026-11-09',
    region: 'eastus',
    usd_per_gpu_hour: {
      // Standard_ND96isr_H100_v5, 8x H100 SXM 80GB: $12.29 per GPU-hour in the source, $98.32/h per
      // VM (rmmartins.com, 2026-06-11, also gives ~$98/h for this VM).
      'h100-sxm': 98.32 / 8,
      // Standard_ND96asr_v4 (ND A100 v4; the source labels it ND96asr_A100_v4), 8x A100 SXM 40GB:
      // $3.3996 per GPU-hour in the source,
      // $27.1968/h per VM.
      'a100-sxm-40gb': 27.1968 / 8,
      // NC A100 v4 (Standard_NC24ads_A100_v4: 1x A100 PCIe 80GB, $3.673/h) is a PCIe part, not in
      // the catalog; ND H200 v5 and ND A100 v4 80GB (ND96amsr) had no dated figure found.
    },
  },
  lambda: {
    describe: 'Lambda Cloud on-demand instances (per GPU-hour as Lambda lists them)',
    source: 'https://lambda.ai/pricing as recorded 2026-09-25 in github.com/tgarg01/silybench-data '
      + 'derived/csv/gpu_prices.csv; H100 SXM / A100 rows match github.com/api-evangelist/lambda-labs '
      + 'plans/lambda-labs-plans-pricing.yml (read from lambda.ai/instances 2026-09-20)',
    as_of: '2026-09-25',
    region: 'n/a (one list price)',
    usd_per_gpu_hour: {
      // 8x H100 SXM instance: $3.99 per GPU-hour ($31.92/h); a 1x H100 SXM instance is $4.29.
      'h100-sxm': 3.99,
      // 1x H100 PCIe instance: $3.29/h.
      'h100-pcie': 3.29,
      // 8x A100 SXM 80GB instance: $2.79 per GPU-hour ($22.32/h).
      'a100-sxm-80gb': 2.79,
      // A100 SXM 40GB (1x and 8x instances): $1.99 per GPU-hour.
      'a100-sxm-40gb': 1.99,
    },
  },
  runpod: {
    describe: 'RunPod Secure Cloud on-demand pods (RunPod-operated data centres), per GPU-hour',
    source: 'https://www.runpod.io/pricing as recorded (read_on 2026-11-09) in '
      + 'github.com/datareceipts/data-receipts 109-gpu-pricing/vendors.json',
    as_of: '2026-11-09',
    region: 'n/a (one list price)',
    usd_per_gpu_hour: {
      // Secure Cloud H100 SXM 80GB: $3.99/h (Community Cloud: $2.69).
      'h100-sxm': 3.99,
      // Secure Cloud H100 PCIe 80GB: $2.89/h (Community: $1.99).
      'h100-pcie': 2.89,
      // Secure Cloud A100 SXM 80GB: $1.79/h (Community: $1.39).
      'a100-sxm-80gb': 1.79,
    },
  },
};

export const PRICE_PRESET_NAMES: string[] = Object.keys(PRICE_PRESETS);
