/** What Ollama's `/api/show` lists under `capabilities`. */
export type Capability = 'completion' | 'tools' | 'vision' | 'thinking' | 'embedding';

export const CAPABILITIES: readonly Capability[] = ['completion', 'tools', 'vision', 'thinking', 'embedding'];

/**
 * Which engine a real Ollama runs the model's images through; it decides the error text for bytes that
 * are not an image (the llama.cpp runner's mtmd, or Go's `image.Decode` in Ollama's own engine).
 */
export type ImageEngine = 'llama' | 'ollama';

export interface KnownModel {
  capabilities: Capability[];
  embeddingDimension: number;
  parameterSize: string;
  quantizationLevel: string;
  size: number;
  imageEngine?: ImageEngine;
  /** The context the model was trained for, as /api/show reports it (`<arch>.context_length`); default 4096. */
  contextLength?: number;
}

const CHAT_TOOLS: Capability[] = ['completion', 'tools'];
const EMBEDDING: Capability[] = ['embedding'];

// Real models' public shapes and the capabilities Ollama reports for them in /api/show.
export const KNOWN_MODELS: Record<string, KnownModel> = {
  'llama3.2': {
    capabilities: CHAT_TOOLS,
    embeddingDimension: 3072,
    parameterSize: '3.2B',
    quantizationLevel: 'Q4_K_M',
    size: 2019393189,
    contextLength: 131_072,
  },
  'llama3.1': {
    capabilities: CHAT_TOOLS,
    embeddingDimension: 4096,
    parameterSize: '8.0B',
    quantizationLevel: 'Q4_K_M',
    size: 4920753328,
    contextLength: 131_072,
  },
  'qwen2.5': {
    capabilities: CHAT_TOOLS,
    embeddingDimension: 3584,
    parameterSize: '7.6B',
    quantizationLevel: 'Q4_K_M',
    size: 4683087332,
    contextLength: 32_768,
  },
  llava: {
    capabilities: ['completion', 'vision'],
    embeddingDimension: 4096,
    parameterSize: '7B',
    quantizationLevel: 'Q4_0',
    size: 4733363377,
    imageEngine: 'llama',
  },
  'llama3.2-vision': {
    capabilities: ['completion', 'vision'],
    embeddingDimension: 4096,
    parameterSize: '10.7B',
    quantizationLevel: 'Q4_K_M',
    size: 7816589186,
    imageEngine: 'ollama',
  },
  gemma3: {
    capabilities: ['completion', 'vision'],
    embeddingDimension: 2560,
    parameterSize: '4.3B',
    quantizationLevel: 'Q4_K_M',
    size: 3338801804,
    imageEngine: 'ollama',
  },
  'qwen2.5vl': {
    capabilities: ['completion', 'vision', 'tools'],
    embeddingDimension: 3584,
    parameterSize: '8.3B',
    quantizationLevel: 'Q4_K_M',
    size: 5969245856,
    imageEngine: 'ollama',
  },
  qwen3: {
    capabilities: ['completion', 'tools', 'thinking'],
    embeddingDimension: 4096,
    parameterSize: '8.2B',
    quantizationLevel: 'Q4_K_M',
    size: 5225388164,
  },
  'deepseek-r1': {
    capabilities: ['completion', 'thinking'],
    embeddingDimension: 4096,
    parameterSize: '8.2B',
    quantizationLevel: 'Q4_K_M',
    size: 5225376047,
  },
  'nomic-embed-text': {
    capabilities: EMBEDDING,
    embeddingDimension: 768,
    parameterSize: '137M',
    quantizationLevel: 'F16',
    size: 274302450,
  },
  'all-minilm': {
    capabilities: EMBEDDING,
    embeddingDimension: 384,
    parameterSize: '23M',
    quantizationLevel: 'F16',
    size: 45960996,
  },
  'mxbai-embed-large': {
    capabilities: EMBEDDING,
    embeddingDimension: 1024,
    parameterSize: '334M',
    quantizationLevel: 'F16',
    size: 669615493,
  },
  'bge-m3': {
    capabilities: EMBEDDING,
    embeddingDimension: 1024,
    parameterSize: '567M',
    quantizationLevel: 'F16',
    size: 1157672605,
  },
};

const EMBEDDING_NAME = /embed|minilm|bge|(^|[-/])e5([-:]|$)/i;
const VISION_NAME = /llava|vision|[-.]?vl\b|vl:|minicpm-v|moondream|bakllava|gemma3/i;
const THINKING_NAME = /qwen3|deepseek-r1|gpt-oss|magistral|phi4-reasoning|cogito/i;

/** Capabilities of a model the table does not know, guessed from its name. */
export function capabilitiesFromName(baseName: string): Capability[] {
  if (EMBEDDING_NAME.test(baseName)) return [...EMBEDDING];
  if (VISION_NAME.test(baseName)) return ['completion', 'vision'];
  if (THINKING_NAME.test(baseName)) return ['completion', 'tools', 'thinking'];
  return [...CHAT_TOOLS];
}
