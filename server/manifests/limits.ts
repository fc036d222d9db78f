/**
 * What one request's manifests may ask of the reader. Kubernetes objects nest
 * a dozen levels and rarely use YAML aliases at all; the limits are far above
 * that, and far below what would exhaust the stack, the heap or the time of
 * the process (go-yaml stops at 10,000 levels, where our reader would not).
 */
export interface ManifestLimits {
  /** The deepest a value may nest, in levels of mappings and sequences. */
  readonly maxDepth: number;
  /** How many nodes YAML aliases may repeat in one document, counted as they expand. */
  readonly maxAliasNodes: number;
  /** The largest YAML text read (JSON is read many times faster and leaner, and has no such limit). */
  readonly maxYamlBytes: number;
  /** The heap of the thread that reads large manifests, in MiB: past it the manifests are too large. */
  readonly readerHeapMb: number;
  /** The most unknown-field warnings one answer lists; the rest are counted. */
  readonly maxWarnings: number;
}

export const DEFAULT_MANIFEST_LIMITS: ManifestLimits = {
  maxDepth: 100,
  maxAliasNodes: 100_000,
  maxYamlBytes: 16 * 1024 * 1024,
  readerHeapMb: 2048,
  maxWarnings: 100,
};

/**
 * Text up to this size is read at once, in the caller's turn: it takes a few
 * milliseconds. Larger text is read on the reader thread, so that other
 * requests are answered meanwhile.
 */
export const INLINE_BYTES = { json: 256 * 1024, yaml: 32 * 1024 } as const;
