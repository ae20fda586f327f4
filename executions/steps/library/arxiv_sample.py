"""A small offline sample of arXiv papers for ``academic_search`` when arXiv is unreachable.

Titles, authors, ids and dates are those of real, well-known arXiv papers; the
abstracts are short paraphrases written for this sample (not arXiv's text). Every
result drawn from here says ``"source": "offline_sample"``, so nobody mistakes it
for a live search.
"""

from __future__ import annotations

from typing import Any


def _paper(
    arxiv_id: str,
    title: str,
    authors: list[str],
    published: str,
    categories: list[str],
    abstract: str,
) -> dict[str, Any]:
    return {
        "id": arxiv_id,
        "title": title,
        "abstract": abstract,
        "authors": authors,
        "published": published,
        "categories": categories,
        "url": f"https://arxiv.org/abs/{arxiv_id}",
        "pdf_url": f"https://arxiv.org/pdf/{arxiv_id}",
    }


SAMPLE: list[dict[str, Any]] = [
    _paper(
        "1706.03762",
        "Attention Is All You Need",
        ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit"],
        "2017-06-12",
        ["cs.CL", "cs.LG"],
        "We propose the Transformer, a sequence transduction architecture built only on "
        "attention mechanisms, without recurrence or convolutions. Transformer models are "
        "more parallelizable and train faster than recurrent networks. On machine "
        "translation the Transformer reaches a new state of the art for language tasks.",
    ),
    _paper(
        "1810.04805",
        "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
        ["Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova"],
        "2018-10-11",
        ["cs.CL"],
        "BERT pre-trains deep bidirectional transformer language models on unlabeled text by "
        "masking words and predicting them from both sides. The pre-trained language model "
        "is fine-tuned with one extra output layer and improves the state of the art on "
        "eleven natural language understanding tasks.",
    ),
    _paper(
        "2005.14165",
        "Language Models are Few-Shot Learners",
        ["Tom B. Brown", "Benjamin Mann", "Nick Ryder", "Melanie Subbiah"],
        "2020-05-28",
        ["cs.CL"],
        "Scaling up transformer language models greatly improves task-agnostic few-shot "
        "performance. GPT-3, an autoregressive language model with 175 billion parameters, "
        "is applied to many language tasks without fine-tuning, with tasks and examples "
        "given purely as text.",
    ),
    _paper(
        "2001.08361",
        "Scaling Laws for Neural Language Models",
        ["Jared Kaplan", "Sam McCandlish", "Tom Henighan", "Tom B. Brown"],
        "2020-01-23",
        ["cs.LG", "stat.ML"],
        "The loss of transformer language models follows power laws in model size, dataset "
        "size and the compute used for training. Larger language models are more sample "
        "efficient, so compute-optimal training uses very large models stopped early.",
    ),
    _paper(
        "1512.03385",
        "Deep Residual Learning for Image Recognition",
        ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"],
        "2015-12-10",
        ["cs.CV"],
        "Residual networks learn residual functions with reference to the layer inputs, "
        "which makes much deeper convolutional networks easy to optimize. Residual networks "
        "with up to 152 layers won the ImageNet image recognition challenge.",
    ),
    _paper(
        "1609.02907",
        "Semi-Supervised Classification with Graph Convolutional Networks",
        ["Thomas N. Kipf", "Max Welling"],
        "2016-09-09",
        ["cs.LG", "stat.ML"],
        "A scalable approach to semi-supervised learning on graph-structured data based on "
        "an efficient variant of convolutional neural networks operating directly on graphs. "
        "Graph convolutional networks encode node features and local graph structure.",
    ),
    _paper(
        "1704.01212",
        "Neural Message Passing for Quantum Chemistry",
        ["Justin Gilmer", "Samuel S. Schoenholz", "Patrick F. Riley", "Oriol Vinyals"],
        "2017-04-04",
        ["cs.LG"],
        "Message passing neural networks unify graph neural network models for molecules. "
        "They predict quantum chemical properties of small organic molecules from their "
        "molecular graphs with chemical accuracy on a standard benchmark.",
    ),
    _paper(
        "2006.11239",
        "Denoising Diffusion Probabilistic Models",
        ["Jonathan Ho", "Ajay Jain", "Pieter Abbeel"],
        "2020-06-19",
        ["cs.LG", "stat.ML"],
        "Diffusion probabilistic models generate high quality images by learning to reverse "
        "a gradual noising process. Training uses a weighted variational bound connected to "
        "denoising score matching, and sample quality rivals generative adversarial networks.",
    ),
    _paper(
        "1406.2661",
        "Generative Adversarial Networks",
        ["Ian J. Goodfellow", "Jean Pouget-Abadie", "Mehdi Mirza", "Bing Xu"],
        "2014-06-10",
        ["stat.ML", "cs.LG"],
        "A generative model is trained through an adversarial process in which a generator "
        "network learns to produce samples that a discriminator network cannot tell apart "
        "from real data, a two-player minimax game.",
    ),
    _paper(
        "1412.6980",
        "Adam: A Method for Stochastic Optimization",
        ["Diederik P. Kingma", "Jimmy Ba"],
        "2014-12-22",
        ["cs.LG"],
        "Adam is an algorithm for first-order gradient-based optimization of stochastic "
        "objective functions based on adaptive estimates of lower-order moments. It is "
        "simple, efficient, needs little memory and suits problems with large data.",
    ),
    _paper(
        "2010.11929",
        "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
        ["Alexey Dosovitskiy", "Lucas Beyer", "Alexander Kolesnikov", "Dirk Weissenborn"],
        "2020-10-22",
        ["cs.CV", "cs.LG"],
        "A pure transformer applied directly to sequences of image patches performs very "
        "well on image classification. The vision transformer, pre-trained on large data, "
        "matches convolutional networks while needing less compute to train.",
    ),
    _paper(
        "2203.02155",
        "Training language models to follow instructions with human feedback",
        ["Long Ouyang", "Jeff Wu", "Xu Jiang", "Diogo Almeida"],
        "2022-03-04",
        ["cs.CL", "cs.AI", "cs.LG"],
        "Language models are fine-tuned with reinforcement learning from human feedback to "
        "follow instructions. The resulting InstructGPT language models are preferred by "
        "people over much larger models and are more truthful and less toxic.",
    ),
    _paper(
        "1312.5602",
        "Playing Atari with Deep Reinforcement Learning",
        ["Volodymyr Mnih", "Koray Kavukcuoglu", "David Silver", "Alex Graves"],
        "2013-12-19",
        ["cs.LG"],
        "A deep learning model learns control policies directly from raw pixels using "
        "reinforcement learning: a convolutional network trained with a variant of Q-learning "
        "plays several Atari games, outperforming earlier approaches.",
    ),
    _paper(
        "2104.09864",
        "RoFormer: Enhanced Transformer with Rotary Position Embedding",
        ["Jianlin Su", "Yu Lu", "Shengfeng Pan", "Ahmed Murtadha"],
        "2021-04-20",
        ["cs.CL", "cs.AI", "cs.LG"],
        "Rotary position embedding encodes absolute positions with a rotation matrix and "
        "brings relative position information into self-attention. The enhanced transformer "
        "handles long texts well in language model experiments.",
    ),
]
