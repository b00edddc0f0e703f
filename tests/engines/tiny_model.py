"""Builds a tiny randomly initialised Qwen2 chat model with a locally trained tokenizer.

Nothing is downloaded: the tokenizer is trained here with the `tokenizers` library and the weights
are random. Shared by the engine tests (tests/engines/conftest.py) and benchmarks/bench_engines.py,
which load this file by path.
"""

from __future__ import annotations

from pathlib import Path

# ChatML, as Qwen2 models use; `add_generation_prompt` opens the assistant turn.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
MAX_POSITIONS = 2048

_CORPUS = [
    "Please reason step by step, and put your final answer within \\boxed{}.",
    "What is the sum of the first one hundred positive integers?",
    "Find the number of ordered pairs of integers such that x squared plus y squared equals 25.",
    "Let ABC be a triangle with sides 3, 4 and 5. Compute its area.",
    "<think> First, add the numbers. Then check the result. </think> The answer is \\boxed{42}.",
    "The quick brown fox jumps over the lazy dog 0123456789 + - * / = ( ) [ ] { } ^ _ , . ; : ! ?",
]


def build_tiny_model(directory: Path, *, seed: int = 0, vocab_size: int = 512, think_tokens: bool = False) -> Path:
    """Write a 2-layer Qwen2 (hidden 128, 2 heads, so head_dim 64) and its tokenizer to `directory`.

    head_dim 64 because vLLM's CPU attention kernels reject small head sizes such as 16.
    `think_tokens` adds `<think>` and `</think>` as single, non-special tokens, as DeepSeek-R1's
    tokenizer has them: vLLM's deepseek_r1 reasoning parser needs them in the vocabulary, and being
    non-special they stay in the decoded text.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    directory.mkdir(parents=True, exist_ok=True)
    core = Tokenizer(models.BPE(unk_token=None))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    core.train_from_iterator(_CORPUS * 20, trainer=trainer)
    if think_tokens:
        core.add_tokens(["<think>", "</think>"])
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=core,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.model_max_length = MAX_POSITIONS
    tokenizer.save_pretrained(directory)

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=MAX_POSITIONS,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)  # type: ignore[no-untyped-call]
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(directory, safe_serialization=True)
    return directory
