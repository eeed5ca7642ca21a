// Configured model providers → planners. Each kind is its vendor's LangChain chat model, with
// retries off (the Temporal activity and the router own retries and fallbacks) and an explicit
// endpoint (so no LangChain or SDK environment variable can redirect the traffic).
import { ChatAnthropic } from '@langchain/anthropic';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { ChatOllama } from '@langchain/ollama';
import { AzureChatOpenAI, ChatOpenAI } from '@langchain/openai';
import type { ProviderConfig } from '../config/schema.js';
import { defaultSecretSource, type SecretSource } from '../registry/credentials.js';
import { ChatModelPlanner } from './chat.js';
import type { Planner } from './types.js';

/** Endpoints used when a provider sets no `baseUrl`. */
export const DEFAULT_BASE_URLS = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  ollama: 'http://127.0.0.1:11434',
} as const satisfies Record<ProviderConfig['kind'], string>;

/**
 * The planner for one configured provider. The API key is resolved from its reference (`apiKey`,
 * or the older `apiKeyEnv`) through `secrets` on the first call, so a provider whose secret is
 * missing fails its plans with an `auth` ProviderError but does not stop the worker.
 */
export function createProviderPlanner(name: string, cfg: ProviderConfig, env: Readonly<Record<string, string | undefined>>, secrets: SecretSource = defaultSecretSource(env)): Planner {
  const key = (): string | undefined => {
    if (cfg.apiKey) return secrets.get(cfg.apiKey);
    // `apiKeyEnv` keeps its old meaning: an unset variable means no key (a local server).
    if (cfg.kind === 'openai' && cfg.apiKeyEnv) return env[cfg.apiKeyEnv] || undefined;
    return undefined;
  };
  const connect = (): { chat: BaseChatModel; secrets: string[] } => {
    const apiKey = key();
    return { chat: chatModel(cfg, apiKey), secrets: apiKey ? [apiKey] : [] };
  };
  // ChatOllama always streams on the wire, and its invoke() drops malformed tool calls instead of
  // reporting them, so Ollama answers are always assembled from the stream here.
  const streaming = cfg.kind === 'ollama' ? true : cfg.streaming;
  return new ChatModelPlanner(name, { kind: cfg.kind, model: cfg.model, streaming, timeout: cfg.timeout, connect });
}

function chatModel(cfg: ProviderConfig, apiKey: string | undefined): BaseChatModel {
  const baseUrl = (cfg.baseUrl ?? DEFAULT_BASE_URLS[cfg.kind]).replace(/\/+$/, '');
  const common = { model: cfg.model, temperature: cfg.temperature, maxTokens: cfg.maxTokens, maxRetries: 0 };
  switch (cfg.kind) {
    case 'openai':
      if (cfg.azure)
        return new AzureChatOpenAI({
          ...common,
          timeout: cfg.timeout,
          azureOpenAIApiKey: apiKey ?? 'unused',
          azureOpenAIEndpoint: baseUrl,
          azureOpenAIApiDeploymentName: cfg.azure.deployment,
          azureOpenAIApiVersion: cfg.azure.apiVersion,
        });
      return new ChatOpenAI({
        ...common,
        timeout: cfg.timeout,
        // OpenAI-compatible servers without authentication still get a syntactically valid header.
        apiKey: apiKey ?? 'unused',
        configuration: { baseURL: baseUrl },
      });
    case 'anthropic':
      return new ChatAnthropic({
        ...common,
        apiKey,
        anthropicApiUrl: baseUrl,
        clientOptions: { baseURL: baseUrl, timeout: cfg.timeout, maxRetries: 0 },
      });
    case 'ollama':
      return new ChatOllama({
        model: cfg.model,
        temperature: cfg.temperature,
        numPredict: cfg.maxTokens,
        maxRetries: 0,
        baseUrl,
        ...(apiKey ? { headers: { Authorization: `Bearer ${apiKey}` } } : {}),
        // The Ollama client passes no signal until the response starts; this bounds the whole exchange.
        fetch: (input, init) => fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(cfg.timeout)]) : AbortSignal.timeout(cfg.timeout) }),
      });
  }
}
