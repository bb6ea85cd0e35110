"""Spotting that two records name the same person although their names were romanised differently.

Bengali, Nepali, Hindi and Urdu names reach Homeward written in Latin letters by different
people, so one survivor may be "Mohammad Rahman" in one NGO's record and "Md. Rahaman" in
another's. Nothing here touches a database or a network.

Folding (`normalise_name`, one key per name, tokens separated by spaces):
- lowercase, accents stripped, punctuation split words, apostrophes join them;
- honorifics dropped (Mr, Mrs, Dr, Sri/Shri/Shree, Smt, Mst/Mosammat, Haji, ...), and so are
  'bin'/'binti'/'ibn' and single-letter initials;
- Md/Mohd/Mohammad/Muhammed/... become "muhammad"; Abdul/Abdur/Abdus/... become "abdul"
  (Abdurrahman splits into "abdul rahman"); Abdullah/Abdulla become "abdullah";
- a separate 'ur'/'ul'/'ud'/'uz'/'us'/'un' joins the word before it (Mizan Ur Rahman ->
  mizanur rahman) or, leading a name, is dropped, as is its assimilated form when a whole
  name follows (Urrahman, Uzzaman -> rahman, jaman; Uddin, Uzzal stay); 'al'/'el' joins the
  word after it (Al Amin -> alamin);
- letters: Haque/Haq -> hak, x->ks, q->k, ph->f, ck->k, ch/chh/c->c, sh->s, z->j, w/v->b,
  h after a consonant dropped (kh, gh, th, dh, bh ...), aw/ow before a consonant, au and ou
  -> u, initial y->j and other y->i, ee->i, oo->u, doubled letters single, a final -a
  dropped (Rama -> ram).
Kumari, Devi, Begum, Khatun and Akter are kept as names (they are often the only family name
recorded) but, with Muhammad, they are too common to match a one-word name on their own.

Matching (`names_match`, `name_similarity`): two folded words match when a weighted edit
distance stays within an allowance that grows with length. Vowel swaps are cheap (e/i, o/u
cheapest; a/o and a/u, the Bengali inherent vowel, next), a vowel or an 'h' inserted costs
less than any consonant change, and words of up to three letters tolerate only e/i and o/u,
so Sita/Gita, Rina/Mina, Rahman/Rahim stay apart while Rahman/Rehman/Rahaman match. Every
word of the shorter name must match a distinct word of the longer one, in any order, with
at most two words left over (a missing middle name), and names written together or apart
(Nurjahan, Nur Jahan) are tried both ways.

Known limits: words in another script (Bengali, Devanagari, Arabic, ...) are compared exactly
after Unicode normalisation and never against a romanisation; a consonant typo the folds
do not cover is a non-match (Nasima/Nasina); Hossain/Hasan-like pairs that differ in vowels
and length are kept apart while Moni/Mani-like pairs match; compounds split differently
(Salahuddin / Salah Uddin) may be missed; a name is cut to its first six words.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator

# A match on every word pair scores at least this; anything else scores at most 0.75.
MATCH_THRESHOLD = 0.8
_NON_MATCH_CEILING = 0.75
_MAX_WORDS = 6  # beyond this the rest of a name is ignored, which bounds the search
_MAX_WORD_LENGTH = 40
_MAX_LEFT_OVER = 2

_VOWELS = frozenset("aeiou")
_APOSTROPHES = frozenset("'`\u2018\u2019\u02bb\u02bc")

_LATIN_EXTRA = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "ł": "l",
    "\u0131": "i",  # dotless i
    "ŋ": "n",
    "þ": "th",
    "ħ": "h",
}

# Not Mahmud, which is another name: a vowel after the h, or a doubled m.
_MUHAMMAD = re.compile(r"m[aeou]?h?d|m[aeou]h?[aeou]m{1,2}[aeiou]d{1,2}|m[aeou]hm{2}[aeiou]d{1,2}")
_ABDULLAH = re.compile(r"abd[ou]?ll?[aeo]h?")
_ABDUL = re.compile(r"abd[eiou]?[lrsztn]|abdool|abdoul")
# Abdurrahman, Abdulkarim: the article, then a name that keeps the doubled letter.
_ABDUL_COMPOUND = re.compile(r"abd[eou]?(?:([lrsztn])(?=\1)|l)([a-z]{4,})")
# Urrahman, Uzzaman; not Uddin, Ullah or the given name Uzzal, where too little is left.
_ASSIMILATED_ARTICLE = re.compile(r"u([rldzsn])\1([a-z]{4,})")

_HONORIFIC_WORDS = (
    "mr mrs ms miss mister dr prof sri shri shree sree srimati shrimati smt "
    "mst most mosst mstt mosammat mosamat mossammat musammat mosammot "
    "haji hajji alhaj alhaji hajee bin binti bint ibn late"
)
# Too common to identify anyone when they are all one record has.
_COMMON_WORDS = (
    "muhammad begum begam khatun khatoon akter akhter bibi devi kumari kumar bahadur nessa"
)

_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"que$", "k"),
        (r"qu", "k"),
        (r"x", "ks"),
        (r"q", "k"),
        (r"ph", "f"),
        (r"ck", "k"),
        (r"c+h+", "c"),
        (r"sh", "s"),
        (r"z", "j"),
        (r"[ao]w(?![aeiouy])", "u"),
        (r"[wv]", "b"),
        (r"([bcdfgjklmnprst])h+", r"\1"),
        (r"^y", "j"),
        (r"y", "i"),
        (r"e{2,}", "i"),
        (r"o{2,}", "u"),
        (r"[ao]u", "u"),
        (r"([a-z])\1+", r"\1"),
        (r"(?<=[a-z]{2})a$", ""),
    )
)


def _ascii_letters(text: str) -> str:
    """Latin text to lowercase a-z, accents stripped; anything else dropped."""
    out = []
    for char in unicodedata.normalize("NFKD", text.casefold()):
        if "a" <= char <= "z":
            out.append(char)
        elif char in _LATIN_EXTRA:
            out.append(_LATIN_EXTRA[char])
    return "".join(out)


def _fold_word(word: str) -> str:
    """One a-z word to its folded key (the canonical forms are fixed points)."""
    word = word[:_MAX_WORD_LENGTH]
    if _MUHAMMAD.fullmatch(word):
        return "muhammad"
    if _ABDULLAH.fullmatch(word):
        return "abdullah"
    if _ABDUL.fullmatch(word):
        return "abdul"
    for pattern, replacement in _REWRITES:
        word = pattern.sub(replacement, word)
    return word


_HONORIFICS = frozenset(_fold_word(word) for word in _HONORIFIC_WORDS.split())
COMMON_WORDS = frozenset(_fold_word(word) for word in _COMMON_WORDS.split())
_JOIN_BACKWARDS = frozenset(_fold_word(word) for word in ("ur", "ul", "ud", "uz", "us", "un"))
_JOIN_FORWARDS = frozenset(_fold_word(word) for word in ("al", "el"))


def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def _raw_words(text: str) -> Iterator[tuple[str, bool]]:
    """Split text into (word, is_latin) runs of letters; marks stay with their letters."""
    current: list[str] = []
    current_latin = False

    def flush() -> Iterator[tuple[str, bool]]:
        if current:
            yield "".join(current), current_latin
            current.clear()

    for char in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(char)
        if char in _APOSTROPHES or category == "Cf":
            continue  # apostrophes join a word; joiners belong to the script around them
        if category.startswith("M"):
            if current:
                current.append(char)
            continue
        if not category.startswith("L"):
            yield from flush()
            continue
        latin = _is_latin(char)
        if current and latin != current_latin:
            yield from flush()
        current_latin = latin
        current.append(char)
    yield from flush()


def _script_key(word: str) -> str:
    key = word
    for _ in range(4):  # casefold and NFKC settle within two rounds; four is a bound
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", key).casefold())
        if folded == key:
            break
        key = folded
    return key


def _words(text: str) -> list[str]:
    """The folded words of a name or a full name, particles attached or dropped."""
    folded: list[str] = []
    for raw, latin in _raw_words(text):
        if not latin:
            key = _script_key(raw)
            if key:
                folded.append(key)
            continue
        word = _ascii_letters(raw)
        compound = _ABDUL_COMPOUND.fullmatch(word)
        if compound and not _ABDULLAH.fullmatch(word):
            folded.extend(["abdul", _fold_word(compound.group(2))])
            continue
        article = _ASSIMILATED_ARTICLE.fullmatch(word)
        if article:
            word = article.group(1) + article.group(2)
        key = _fold_word(word)
        if key:
            folded.append(key)

    words: list[str] = []
    pending_article = False
    for key in folded:
        if key in _HONORIFICS:
            continue
        if key in _JOIN_BACKWARDS:
            if words and words[-1].isascii() and not pending_article:
                words[-1] = _fold_word(words[-1] + key)
            continue
        if key in _JOIN_FORWARDS:
            pending_article = True
            continue
        if pending_article and key.isascii():
            key = _fold_word("al" + key)
        pending_article = False
        if len(key) == 1 and key.isascii():
            continue  # an initial says too little to compare
        words.append(key)
    return words


def normalise_name(name: str) -> str:
    """A canonical key for one name: folded words separated by single spaces."""
    key = " ".join(_words(name))
    for _ in range(4):  # folding a key again changes nothing; the loop only guards that
        again = " ".join(_words(key))
        if again == key:
            break
        key = again
    return key


def _vowel_swap_cost(a: str, b: str) -> float:
    pair = {a, b}
    if pair in ({"e", "i"}, {"o", "u"}):
        return 0.3
    if pair in ({"a", "e"}, {"a", "o"}, {"a", "u"}):
        return 0.4
    return 0.6


def _gap_cost(char: str) -> float:
    return 0.4 if char in _VOWELS or char == "h" else 1.0


def _edit_cost(a: str, b: str) -> float:
    """Levenshtein distance where vowels and 'h' are cheap and consonants cost 1."""
    previous = [0.0]
    for char in b:
        previous.append(previous[-1] + _gap_cost(char))
    for char_a in a:
        current = [previous[0] + _gap_cost(char_a)]
        for j, char_b in enumerate(b, start=1):
            if char_a == char_b:
                swap = 0.0
            elif char_a in _VOWELS and char_b in _VOWELS:
                swap = _vowel_swap_cost(char_a, char_b)
            else:
                swap = 1.0
            current.append(
                min(
                    previous[j - 1] + swap,
                    previous[j] + _gap_cost(char_a),
                    current[j - 1] + _gap_cost(char_b),
                )
            )
        previous = current
    return previous[-1]


def _allowance(length: int) -> float:
    if length <= 3:
        return 0.3
    if length <= 5:
        return 0.4
    return 0.8  # never a whole consonant: Sita/Gita, Rahman/Rahim


def word_similarity(a: str, b: str) -> float:
    """0..1 for two folded words; at least MATCH_THRESHOLD exactly when they match."""
    if a == b:
        return 1.0
    if not (a.isascii() and b.isascii()):
        return 0.0
    cost = _edit_cost(a, b)
    allowance = _allowance(min(len(a), len(b)))
    if cost <= allowance:
        return 1.0 - (1.0 - MATCH_THRESHOLD) * cost / allowance
    # Below the threshold, fall with the share of the longer word that had to change.
    return max(0.0, _NON_MATCH_CEILING * (1.0 - cost / max(len(a), len(b))))


def _joined_variants(words: list[str]) -> list[list[str]]:
    """The words as given and with each neighbouring pair written as one word."""
    variants = [words]
    for i in range(len(words) - 1):
        if words[i].isascii() and words[i + 1].isascii():
            merged = _fold_word(words[i] + words[i + 1])
            variants.append([*words[:i], merged, *words[i + 2 :]])
    return variants


def _score(a: list[str], b: list[str]) -> float:
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    left_over = len(long_) - len(short)
    if not short or left_over > _MAX_LEFT_OVER:
        return 0.0
    all_common = all(word in COMMON_WORDS for word in short)
    matrix = [[word_similarity(s, t) for t in long_] for s in short]
    best = 0.0
    for chosen in itertools.permutations(range(len(long_)), len(short)):
        sims = [matrix[i][j] for i, j in enumerate(chosen)]
        matched = all(sim >= MATCH_THRESHOLD for sim in sims)
        if matched and left_over and all_common:
            matched = False  # "Begum" alone says nothing about "Rokeya Begum"
        if matched:
            score = max(MATCH_THRESHOLD, sum(sims) / len(sims) - 0.02 * left_over)
        else:
            score = _NON_MATCH_CEILING * sum(sims) / len(long_)
        best = max(best, score)
    return best


def name_similarity(a: str, b: str) -> float:
    """0..1 for two full names; at least MATCH_THRESHOLD when they likely name one person."""
    # Folded to the fixed point, as normalise_name does: one pass of the rewrites can leave
    # a key that a second pass folds further ("accq" → "ack" → "ak").
    words_a = normalise_name(a).split()[:_MAX_WORDS]
    words_b = normalise_name(b).split()[:_MAX_WORDS]
    if not words_a and not words_b:
        # Nothing comparable (emoji, initials, honorifics only): only identical text counts.
        same = a.strip().casefold() == b.strip().casefold() and bool(a.strip())
        return 1.0 if same else 0.0
    if abs(len(words_a) - len(words_b)) > _MAX_LEFT_OVER:
        return 0.0
    # Join words on one side at a time: joined on both, Sita Tamang and Gita Tamang would
    # become two long words that differ in a single letter.
    return max(
        [_score(variant, words_b) for variant in _joined_variants(words_a)]
        + [_score(words_a, variant) for variant in _joined_variants(words_b)]
    )


def names_match(given_a: str, family_a: str, given_b: str, family_b: str) -> bool:
    """True when the two full names likely belong to the same person, in either order."""
    return name_similarity(f"{given_a} {family_a}", f"{given_b} {family_b}") >= MATCH_THRESHOLD
