"""Language-model providers behind one small streaming interface.

    LLMProvider (base.py)       stream() / complete() / health() / aclose()
    ├── OpenAIProvider          OpenAI and OpenAI-compatible servers (openai.py)
    └── OllamaProvider          Ollama's native /api/chat (ollama.py)

`select_provider(settings)` (select.py) picks one at start-up, or None for retrieval-only answers.
Failures are the `LLMError` subclasses of `ragis.errors`.
"""

from ragis.llm.base import ChatMessage, LLMProvider, ProviderHealth, Role
from ragis.llm.ollama import OllamaProvider
from ragis.llm.openai import OpenAIProvider
from ragis.llm.select import describe_selection, ollama_answers, select_provider

__all__ = [
    "ChatMessage",
    "LLMProvider",
    "OllamaProvider",
    "OpenAIProvider",
    "ProviderHealth",
    "Role",
    "describe_selection",
    "ollama_answers",
    "select_provider",
]
