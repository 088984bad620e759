// Published unit prices the bench turns its measured requests and durations into money with, each with
// the page it was read from and what could not be verified there. Checked on 2026-12-03 through the
// stored copies of those pages; prices change, so the README gives the date with every figure.

export interface Price {
  value: number;
  unit: string;
  source: string;
  /** What the page did not confirm (an assumption made here instead), if anything. */
  caveat?: string;
}

export const PRICES_CHECKED = "2026-12-03";

/** Function Compute, pay-as-you-go resource usage, converted to CU and billed per CU (tier 1). */
export const FC = {
  perCu: { value: 0.00002, unit: "USD per CU (first 100 million CU a month)", source: "https://alibabacloud.com/help/tc/functioncompute/fc-2-0/product-overview/pay-as-you-go-billing-method" } as Price,
  invocationCu: { value: 75 / 10_000, unit: "CU per invocation (75 CU per 10,000)", source: "same page" } as Price,
  vcpuSecondCu: { value: 1, unit: "CU per active vCPU-second", source: "same page" } as Price,
  gbSecondCu: { value: 0.15, unit: "CU per GB-second of memory", source: "same page" } as Price,
  /** vCPU an instance gets for its memory when only memorySize is configured (FC 2.0 functions). */
  vcpuPerGb: {
    value: 1,
    unit: "vCPU per GB of memorySize",
    source: "assumption",
    caveat: "how FC maps a memory-only FC 2.0 function to vCPUs was not found; 1 vCPU per GB assumed",
  } as Price,
};

/** Tablestore (表格存储) CU mode, pay-as-you-go read and write capacity units, China (Hangzhou). */
export const TABLESTORE = {
  readPer10k: { value: 0.01, unit: "CNY per 10,000 read CU (high-performance instance)", source: "https://help.aliyun.com/zh/tablestore/product-overview/billing-examples" } as Price,
  writePer10k: {
    value: 0.01,
    unit: "CNY per 10,000 write CU (high-performance instance)",
    source: "https://help.aliyun.com/zh/tablestore/product-overview/billing-examples",
    caveat: "the page gives the read price only; the write CU is assumed to cost the same (the price page itself could not be read)",
  } as Price,
};

/** AWS DynamoDB on-demand, US East (N. Virginia), after the November 2024 price cut. */
export const DYNAMODB = {
  writePerMillion: {
    value: 0.625,
    unit: "USD per million write request units (1 KB each)",
    source: "https://airbyte.com/data-engineering-resources/dynamodb-pricing (quoting https://aws.amazon.com/dynamodb/pricing/on-demand/)",
    caveat: "AWS's own price table is rendered by script and could not be read; figure from a July 2025 summary",
  } as Price,
  readPerMillion: {
    value: 0.125,
    unit: "USD per million read request units (4 KB strongly consistent, or two eventually consistent reads)",
    source: "same",
    caveat: "as above; our reads are counted as one unit each (eventually consistent would halve them)",
  } as Price,
};

/** PolarDB for PostgreSQL (the DynamoDB-compatible endpoint needs a provisioned cluster), pay-as-you-go compute. */
export const POLARDB = {
  nodeHour: {
    value: 0.08,
    unit: "USD per hour, one general-purpose 2-core 4 GB compute node (polar.pg.g2.medium.c), Chinese mainland",
    source: "https://www.alibabacloud.com/help/en/polardb/polardb-for-postgresql/billing-rules-for-computing-nodes",
    caveat: "storage, the DynamoDB endpoint's proxy and any read-only node are billed on top and left out; whether smaller specs support DynamoDB compatibility was not checked",
  } as Price,
};

export const CNY_PER_USD = { value: 7.1, unit: "CNY per USD", source: "assumption", caveat: "a round exchange rate, only to put the currencies side by side" } as Price;
