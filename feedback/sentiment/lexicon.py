"""Customer-experience sentiment vocabulary layered over TextBlob's adjective lexicon."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Final

# Polarity on TextBlob's scale (good 0.7, great 0.8, excellent 1.0). Written by hand for
# reviews and customer service; these entries override TextBlob's where both exist.
CX_WORDS: Final[dict[str, float]] = {
    # --- praise: quality and experience
    "great": 0.8, "good": 0.7, "nice": 0.6, "fine": 0.3, "ok": 0.2, "okay": 0.2,
    "decent": 0.35, "solid": 0.5, "superb": 1.0, "superior": 0.6, "outstanding": 1.0,
    "exceptional": 1.0, "phenomenal": 1.0, "fabulous": 0.9, "fantastic": 0.9,
    "terrific": 0.9, "wonderful": 0.9, "brilliant": 0.9, "magnificent": 0.9,
    "marvelous": 0.9, "marvellous": 0.9, "stellar": 0.9, "splendid": 0.8, "lovely": 0.7,
    "beautiful": 0.7, "gorgeous": 0.8, "stunning": 0.8, "impressive": 0.7,
    "incredible": 0.8, "unbelievable": 0.3, "remarkable": 0.6, "amazing": 0.8,
    "awesome": 0.9, "excellent": 1.0, "perfect": 1.0, "perfectly": 0.7, "flawless": 0.9,
    "flawlessly": 0.8, "ideal": 0.7, "best": 0.9, "better": 0.4, "finest": 0.8,
    "favorite": 0.7, "favourite": 0.7, "enjoyable": 0.7, "pleasant": 0.6, "pleasing": 0.6,
    "delightful": 0.8, "charming": 0.6, "cool": 0.5, "neat": 0.5, "sweet": 0.4,
    "classy": 0.6, "elegant": 0.6, "sleek": 0.5, "stylish": 0.5, "attractive": 0.5,
    "cute": 0.5, "fun": 0.6, "exciting": 0.6, "interesting": 0.4, "unique": 0.3,
    "quality": 0.0, "premium": 0.4, "top-notch": 0.9, "first-rate": 0.9, "first-class": 0.8,
    "world-class": 0.9, "five-star": 0.9, "a-ok": 0.6,
    "10/10": 0.9, "gem": 0.7, "winner": 0.7, "bargain": 0.6, "steal": 0.3, "treat": 0.5,
    "pleasure": 0.7, "joy": 0.7, "delight": 0.7, "kudos": 0.7, "bravo": 0.7,
    "wow": 0.6, "yay": 0.6, "yum": 0.7, "yummy": 0.8, "thanks": 0.4, "thank": 0.4,
    "thankful": 0.6, "grateful": 0.6, "appreciate": 0.6, "appreciated": 0.6,
    "love": 0.7, "loved": 0.7, "loves": 0.7, "loving": 0.6, "adore": 0.8, "like": 0.3,
    "liked": 0.4, "likes": 0.2, "enjoy": 0.6, "enjoyed": 0.6, "enjoys": 0.5,
    "recommend": 0.6, "recommended": 0.6, "recommends": 0.5, "recommendation": 0.4,
    "praise": 0.6, "impressed": 0.7, "satisfied": 0.6, "satisfying": 0.6,
    "satisfaction": 0.5, "pleased": 0.6, "happy": 0.7, "happier": 0.7, "glad": 0.6,
    "thrilled": 0.9, "delighted": 0.9, "ecstatic": 0.9, "excited": 0.5, "relieved": 0.4,
    "comfortable": 0.5, "comfy": 0.5, "cozy": 0.5, "convenient": 0.6, "handy": 0.5,
    "useful": 0.5, "practical": 0.4, "valuable": 0.5, "worth": 0.4, "worthwhile": 0.6,
    "worthy": 0.5, "affordable": 0.5, "inexpensive": 0.4, "reasonable": 0.4,
    "reasonably": 0.3, "value": 0.2, "deal": 0.2, "win": 0.5, "works": 0.3,
    "working": 0.2, "worked": 0.3,
    # --- praise: service
    "helpful": 0.7, "friendly": 0.6, "polite": 0.6, "courteous": 0.6, "kind": 0.6,
    "nice-looking": 0.5, "welcoming": 0.6, "warm": 0.3, "caring": 0.6, "patient": 0.5,
    "attentive": 0.6, "accommodating": 0.6, "considerate": 0.6, "respectful": 0.5,
    "professional": 0.5, "professionally": 0.5, "knowledgeable": 0.6, "competent": 0.5,
    "skilled": 0.5, "expert": 0.4, "responsive": 0.6, "prompt": 0.6, "promptly": 0.6,
    "quick": 0.5, "quickly": 0.4, "fast": 0.5, "speedy": 0.6, "swift": 0.5,
    "efficient": 0.6, "efficiently": 0.5, "punctual": 0.6, "timely": 0.5,
    "reliable": 0.6, "dependable": 0.6, "trustworthy": 0.6, "honest": 0.5,
    "transparent": 0.4, "smooth": 0.5, "smoothly": 0.5, "seamless": 0.7,
    "seamlessly": 0.6, "effortless": 0.6, "easy": 0.5, "easier": 0.4, "easily": 0.4,
    "simple": 0.3, "straightforward": 0.5, "intuitive": 0.6, "user-friendly": 0.7,
    "hassle-free": 0.7, "painless": 0.6, "stress-free": 0.6, "trouble-free": 0.7,
    "sturdy": 0.5, "durable": 0.5, "solidly": 0.4, "well-made": 0.6, "well-built": 0.6,
    "crisp": 0.5, "clear": 0.4, "clearly": 0.1, "loud": 0.1, "bright": 0.3, "accurate": 0.5,
    "secure": 0.4, "safe": 0.4, "fresh": 0.5, "clean": 0.5, "spotless": 0.7, "tidy": 0.5,
    "tasty": 0.7, "delicious": 0.9, "flavorful": 0.7, "flavourful": 0.7, "juicy": 0.5,
    "tender": 0.5, "authentic": 0.4, "generous": 0.5, "plentiful": 0.4, "hot": 0.0, "plenty": 0.3,
    "fixed": 0.3, "resolved": 0.5, "solved": 0.5, "sorted": 0.4, "refunded": 0.2,
    "improved": 0.4, "improvement": 0.3, "upgrade": 0.2, "well": 0.3,
    "compliment": 0.6, "compliments": 0.6, "complimented": 0.5, "beauty": 0.6,
    "rocks": 0.6, "rocked": 0.6, "hooked": 0.5, "fan": 0.5, "extensive": 0.3,
    "immediately": 0.3, "divine": 0.8, "prettier": 0.6, "catching": 0.0,
    "lifesaver": 0.8, "exceeded": 0.6, "exceeds": 0.6, "relief": 0.4, "reassuring": 0.5,
    "informative": 0.5, "thorough": 0.5, "thoughtful": 0.6, "genuine": 0.4, "sincere": 0.5,
    "heavenly": 0.8, "fave": 0.7, "faves": 0.7,
    # --- complaint: quality and experience
    "bad": -0.7, "worse": -0.7, "worst": -1.0, "poor": -0.6, "poorly": -0.6,
    "terrible": -1.0, "terribly": -0.8, "horrible": -1.0, "horribly": -0.8, "awful": -1.0,
    "awfully": -0.4, "dreadful": -0.9, "atrocious": -1.0, "abysmal": -1.0,
    "appalling": -1.0, "pathetic": -0.8, "lousy": -0.7, "crappy": -0.8, "crap": -0.8,
    "crummy": -0.7, "shoddy": -0.8, "cheaply": -0.5, "flimsy": -0.6, "fragile": -0.3,
    "mediocre": -0.5, "subpar": -0.6, "sub-par": -0.6, "inferior": -0.6,
    "disappointing": -0.7, "disappointed": -0.7, "disappoints": -0.6,
    "disappointment": -0.7, "disappoint": -0.6, "unhappy": -0.7, "unsatisfied": -0.7,
    "dissatisfied": -0.7, "displeased": -0.6, "frustrated": -0.6, "frustrating": -0.7,
    "frustration": -0.6, "annoyed": -0.6, "annoying": -0.7, "irritating": -0.7,
    "upset": -0.6, "angry": -0.7, "furious": -0.9, "livid": -0.9, "outraged": -0.9,
    "outrageous": -0.7, "ridiculous": -0.6, "absurd": -0.6, "unacceptable": -0.9,
    "inexcusable": -0.9, "disgusting": -1.0, "disgusted": -0.9, "gross": -0.7,
    "nasty": -0.8, "vile": -0.9, "inedible": -0.9, "bland": -0.5, "tasteless": -0.6,
    "flavorless": -0.6, "flavourless": -0.6, "soggy": -0.6, "greasy": -0.5, "stale": -0.6,
    "undercooked": -0.6, "overcooked": -0.6, "burnt": -0.5, "burned": -0.3, "raw": -0.2,
    "cold": -0.2, "lukewarm": -0.4, "dirty": -0.7, "filthy": -0.9, "smelly": -0.6,
    "sticky": -0.3, "noisy": -0.4, "uncomfortable": -0.6, "awkward": -0.4, "clunky": -0.5,
    "confusing": -0.5, "confused": -0.4, "complicated": -0.4, "difficult": -0.4,
    "hard": -0.2, "inconvenient": -0.5, "useless": -0.8, "worthless": -0.9,
    "pointless": -0.6, "waste": -0.7, "wasted": -0.7, "wasting": -0.6, "junk": -0.8,
    "garbage": -0.9, "trash": -0.8, "rubbish": -0.8, "joke": -0.5, "nightmare": -0.9,
    "disaster": -0.9, "mess": -0.6, "messy": -0.5, "fail": -0.7, "failed": -0.6,
    "fails": -0.6, "failing": -0.6, "failure": -0.7, "problem": -0.4, "problems": -0.4,
    "problematic": -0.5, "issue": -0.3, "issues": -0.3, "trouble": -0.5,
    "troubles": -0.5, "hassle": -0.6, "pain": -0.5, "headache": -0.6,
    "complaint": -0.4, "complaints": -0.4, "complain": -0.4, "complained": -0.4,
    "regret": -0.7, "regrets": -0.6, "regretted": -0.7, "avoid": -0.6, "beware": -0.7,
    "scam": -0.9, "ripoff": -0.9, "rip-off": -0.9, "fraud": -0.9, "cheated": -0.8,
    "misleading": -0.7, "lied": -0.7, "lie": -0.5, "dishonest": -0.8, "sucks": -0.8,
    "sucked": -0.8, "suck": -0.7, "stinks": -0.7, "hate": -0.8, "hated": -0.8,
    "hates": -0.8, "dislike": -0.6, "disliked": -0.6, "meh": -0.3, "ugh": -0.5,
    "overpriced": -0.7, "pricey": -0.3, "expensive": -0.3, "overrated": -0.6,
    "overcharged": -0.8, "unreliable": -0.7, "inconsistent": -0.5, "inaccurate": -0.6,
    "defective": -0.8, "faulty": -0.8, "broken": -0.7, "broke": -0.6, "breaks": -0.5,
    "damaged": -0.7, "cracked": -0.6, "scratched": -0.5, "dented": -0.5, "torn": -0.5,
    "leaking": -0.5, "leaks": -0.5, "missing": -0.5, "wrong": -0.6, "incorrect": -0.6,
    "incomplete": -0.5, "lost": -0.5, "stolen": -0.6, "crashes": -0.7, "crashed": -0.7,
    "crashing": -0.7, "crash": -0.6, "freezes": -0.6, "froze": -0.6, "freezing": -0.4,
    "glitchy": -0.7, "glitch": -0.5, "glitches": -0.5, "buggy": -0.7, "bug": -0.4,
    "bugs": -0.4, "laggy": -0.6, "lag": -0.4, "sluggish": -0.5, "unusable": -0.9,
    "unstable": -0.5, "error": -0.4, "errors": -0.4, "malfunction": -0.7,
    "malfunctioned": -0.7, "dead": -0.5, "died": -0.5, "dies": -0.5, "dying": -0.4,
    "weak": -0.4, "static": -0.3, "dropped": -0.3, "drops": -0.3, "slow": -0.5,
    "slowly": -0.4, "slower": -0.4, "late": -0.5, "later": 0.0, "delayed": -0.6,
    "delay": -0.5, "delays": -0.5, "overdue": -0.6, "cancelled": -0.5, "canceled": -0.5,
    "cancellation": -0.3, "refund": -0.3, "returned": -0.4, "return": 0.0,
    "returning": 0.0, "latest": 0.0, "unavailable": -0.4, "unanswered": -0.6,
    "ignored": -0.7,
    "ignoring": -0.6, "unhelpful": -0.7, "rude": -0.8,
    "rudely": -0.8, "impolite": -0.7, "disrespectful": -0.8, "arrogant": -0.7,
    "condescending": -0.7, "dismissive": -0.7, "incompetent": -0.8, "clueless": -0.7,
    "unprofessional": -0.8, "careless": -0.6, "lazy": -0.6, "inattentive": -0.6,
    "unresponsive": -0.7, "unfriendly": -0.6, "hostile": -0.8, "mean": -0.3,
    "sloppy": -0.6, "negligent": -0.8, "unreachable": -0.6, "endless": -0.3,
    "forever": -0.2, "sorry": -0.3, "unfortunately": -0.5, "sadly": -0.5, "sad": -0.5,
    "poor-quality": -0.7, "low-quality": -0.7, "cheap": 0.0, "tiny": -0.2,
    "flaw": -0.6, "flaws": -0.6, "flawed": -0.6, "cumbersome": -0.5, "breakage": -0.6,
    "unintelligible": -0.7, "distracting": -0.4, "buzzing": -0.4, "hissing": -0.4,
    "crackling": -0.4, "echo": -0.3, "forgery": -0.7, "forgeries": -0.7, "whine": -0.4,
    "flop": -0.5, "flops": -0.4, "chewy": -0.4, "overwhelmed": -0.4, "rushed": -0.5,
    "wait": -0.3, "waited": -0.4, "waiting": -0.3, "lacked": -0.5,
    "insulted": -0.7, "disrespected": -0.7, "disrespect": -0.7, "horrific": -1.0,
    "defect": -0.6, "defects": -0.6, "scratches": -0.4, "leak": -0.4, "refused": -0.6,
    "refuse": -0.5, "denied": -0.5, "declined": -0.3, "excuse": -0.3, "excuses": -0.5,
    "mistake": -0.5, "mistakes": -0.5, "impossible": -0.6, "unable": -0.4,
    "struggle": -0.4, "struggled": -0.4, "difficulty": -0.4, "nuisance": -0.5,
    "inconvenience": -0.5, "outage": -0.5, "downtime": -0.4, "spam": -0.5, "pushy": -0.6,
    "aggressive": -0.5, "harassed": -0.7, "scammed": -0.9, "stole": -0.7,
    "overbooked": -0.5, "understaffed": -0.5, "unclean": -0.6, "stained": -0.5,
    "horrendous": -1.0, "horrid": -0.9, "dreadfully": -0.8, "miserable": -0.8,
    "worthlessly": -0.7, "unbearable": -0.9, "intolerable": -0.9, "painful": -0.6,
    "stressful": -0.6, "tedious": -0.5, "boring": -0.5, "dull": -0.4, "cramped": -0.4,
    "crowded": -0.3, "overcrowded": -0.5, "chaotic": -0.5, "disorganized": -0.6,
    "disorganised": -0.6, "unorganized": -0.6, "hopeless": -0.7, "terrified": -0.5,
    "shocked": -0.4, "shocking": -0.6, "horrified": -0.8, "embarrassing": -0.6,
    "insulting": -0.8, "offensive": -0.7, "suspicious": -0.4, "sketchy": -0.6,
    "dodgy": -0.6, "shady": -0.6, "bogus": -0.7, "fake": -0.6, "counterfeit": -0.8,
    "overheats": -0.6, "overheating": -0.6, "blurry": -0.5, "fuzzy": -0.4,
    "muffled": -0.5, "distorted": -0.5, "uncomfortably": -0.5, "lacking": -0.5,
    "lacks": -0.4, "lackluster": -0.6, "lacklustre": -0.6, "underwhelming": -0.6,
    "underwhelmed": -0.6, "unimpressed": -0.6, "unimpressive": -0.5, "barely": -0.2,
}

# Multi-word expressions, matched on lower-case tokens before single words. A slot written
# "a/b" accepts either token, so one line covers the usual inflections.
CX_PHRASES: Final[dict[str, float]] = {
    # --- service failures
    "charged twice": -0.8, "double charged": -0.8, "charged me twice": -0.8,
    "overcharged me": -0.8, "hidden fees/charges": -0.7, "never arrived/came/showed": -0.8,
    "never received": -0.8, "never got": -0.6, "did not arrive": -0.7,
    "hasn't/haven't arrived": -0.6, "not arrived": -0.6,
    "not delivered": -0.7, "never delivered": -0.8, "still waiting": -0.7,
    "no one/body called back": -0.8, "nobody called back": -0.8,
    "never called back": -0.8, "never heard back": -0.8, "no response/reply/answer": -0.7,
    "never responded/replied/answered": -0.8, "no one/body answered": -0.7,
    "nobody answered/responded/replied/helped/cared": -0.7,
    "no one/body answered/responded/replied/helped/cared": -0.7,
    "on hold": -0.6, "put on hold": -0.6, "kept me waiting": -0.7, "kept waiting": -0.6,
    "waited forever": -0.7, "took/takes/waited an/over/almost hour": -0.5,
    "took/takes/waited over/almost an hour": -0.5, "took forever": -0.7, "takes forever": -0.7,
    "waiting forever": -0.7, "for ages": -0.5, "hours later": -0.3,
    "keeps crashing/freezing/failing/disconnecting/dropping": -0.8,
    "keep crashing/freezing/failing/disconnecting/dropping": -0.8,
    "kept crashing/freezing/failing/disconnecting/dropping": -0.8,
    "stopped working": -0.8, "stops working": -0.8, "quit working": -0.8,
    "doesn't work": -0.8, "didn't work": -0.7,
    "does not work": -0.8, "did not work": -0.7, "won't work": -0.7, "not working": -0.7,
    "no longer works": -0.7, "never worked": -0.8, "broke down": -0.7,
    "fell apart": -0.8, "falls apart": -0.8, "falling apart": -0.8, "gave up": -0.4,
    "sent back": -0.5, "send it back": -0.6, "sending it back": -0.6,
    "returned it": -0.6, "returning it": -0.6, "return it": -0.5,
    "money back": -0.4, "want a refund": -0.7, "got/received my/a/the/full refund": 0.4,
    "refund was processed": 0.4, "wanted a refund": -0.7,
    "asked for a refund": -0.6, "demand a refund": -0.8, "no refund": -0.8,
    "waste of money/time": -0.9, "wasted my money/time": -0.9, "waste your money/time": -0.9,
    "don't waste": -0.8, "do not waste": -0.8, "throwing money away": -0.8,
    "don't buy": -0.8, "do not buy": -0.8, "wouldn't buy": -0.7, "would not buy": -0.7,
    "never buy": -0.7, "never again": -0.8, "never going back": -0.8,
    "won't be back": -0.8, "will not be back": -0.8, "won't be returning": -0.8,
    "will not be returning": -0.8, "won't go back": -0.8, "will never go back": -0.8,
    "won't be coming back": -0.8, "not coming back": -0.7, "not going back": -0.7,
    "would not recommend": -0.8, "wouldn't recommend": -0.8, "do not recommend": -0.8,
    "don't recommend": -0.8, "cannot recommend": -0.7, "can't recommend": -0.6,
    "not recommended": -0.8, "not worth": -0.7, "not worth it": -0.8,
    "stay away": -0.8, "steer clear": -0.8, "rip off": -0.9, "ripped off": -0.9,
    "fell short": -0.6, "falls short": -0.6, "let down": -0.6, "let me down": -0.7,
    "went downhill": -0.7, "gone downhill": -0.7, "goes downhill": -0.7,
    "piece of junk/crap/garbage/trash/shit": -1.0, "the worst": -1.0,
    "too long": -0.4, "too slow": -0.6, "too expensive": -0.6, "too much": -0.2,
    "too small": -0.4, "too big": -0.3, "too loud": -0.4, "too quiet": -0.4,
    "not enough": -0.4, "nothing special": -0.5, "not impressed": -0.7,
    "not happy": -0.7, "not satisfied": -0.7, "not good": -0.6, "not great": -0.5,
    "not very good": -0.6, "not that good": -0.5, "not the best": -0.4,
    "could be better": -0.4, "could have been better": -0.4, "should have been": -0.2,
    # 0.0 entries only stop a shorter, misleading match ("looks like" is not "like").
    "at all": 0.0, "looks/look/looked/feels/feel/felt/seems/seem/seemed/sounds/sound like": 0.0,
    "just like": 0.0, "would like": 0.0, "like new": 0.5,
    "like a charm": 0.8, "kind/sort of": 0.0, "must have been/had": 0.0, "best of luck": 0.0,
    "as well": 0.0, "not believe/imagine": 0.0,
    "no help": -0.7, "no use": -0.6, "of no use": -0.7,
    "wrong item/order/size/address/product/parcel/package": -0.7,
    "lost my": -0.6, "hung up": -0.7, "hang up": -0.5, "transferred again": -0.6,
    "passed around": -0.5, "run around": -0.6, "runaround": -0.6, "bounced around": -0.5,
    "out of stock": -0.3, "no show": -0.7, "no-show": -0.7, "did not show up": -0.7,
    "didn't show up": -0.7, "never showed up": -0.8, "two/three/four/five days late": -0.6,
    "arrived late": -0.6, "came late": -0.6, "running late": -0.4,
    "poor quality": -0.7, "low quality": -0.7, "bad quality": -0.8, "poorly made": -0.7,
    "cheaply made": -0.7, "made cheaply": -0.7, "battery life sucks": -0.8,
    "dropped calls": -0.6, "drops calls": -0.6, "drop calls": -0.6,
    # --- praise
    "highly recommend": 0.9, "highly recommended": 0.9, "strongly recommend": 0.9,
    "would recommend": 0.7, "definitely recommend": 0.9, "recommend it": 0.7,
    "worth every penny": 0.9, "worth the money/price/wait/trip/visit": 0.7,
    "well worth": 0.8, "money well spent": 0.8, "value for money": 0.6,
    "good value": 0.7, "great value": 0.8, "great deal": 0.7, "good deal": 0.6,
    "on time": 0.5, "right on time": 0.6, "ahead of schedule": 0.6, "early": 0.2,
    "arrived early": 0.5, "came early": 0.4, "next day": 0.2, "same day": 0.2,
    "no problem/problems/issues/issue/complaints/trouble/hassle": 0.5,
    "no complaints": 0.6, "not a problem": 0.4, "without a hitch": 0.7,
    "without any problems/issues/trouble": 0.6, "never had a problem": 0.6,
    "never had any problems/issues": 0.6, "never disappoints": 0.8,
    "never fails": 0.5, "can't complain": 0.5, "cannot complain": 0.5,
    "couldn't be happier": 0.9, "could not be happier": 0.9, "can't beat": 0.7,
    "cannot beat": 0.7, "can't go wrong": 0.7, "can not go wrong": 0.7,
    "couldn't ask for more": 0.8, "could not ask for more": 0.8,
    "can't say enough": 0.7, "cannot say enough": 0.7, "can't wait": 0.5,
    "above and beyond": 0.9, "went out of their/his/her way": 0.8,
    "goes out of their/his/her way": 0.8, "out of their way": 0.6,
    "thank you": 0.5, "thanks so much": 0.6, "5 stars": 0.9, "five stars": 0.9,
    "a must": 0.7, "must have": 0.7, "to die for": 0.9, "out of this world": 0.9,
    "thumbs up": 0.7, "thumbs down": -0.7, "five star": 0.8, "right away": 0.4,
    "straight away": 0.4, "be back": 0.6, "order/buy/ordering/buying/use again": 0.6,
    "gets/got/get/does the job done": 0.6, "just/exactly what i/we wanted/needed": 0.7,
    "holds/held/hold up well": 0.6, "better than this/these": -0.4,
    "better than expected/ever": 0.6, "better than i expected": 0.6,
    "expected/expect/expecting better/more": -0.5, "below expectations/average/par": -0.6,
    "above expectations/average": 0.5, "at best": -0.8, "had better": -0.5,
    "had much/way/far better": -0.5, "seen better": -0.5, "not sure": -0.3,
    "go/going/look elsewhere": -0.5, "somewhere else": -0.4, "off night/day": -0.5,
    "needs/need improvement/work": -0.5, "needs/need to improve": -0.5,
    "half the price": 0.4, "luke warm": -0.4, "not return": -0.6, "never return": -0.7,
    "would/will return": 0.6, "return it/this/them": -0.5,
    "not a fan": -0.6,
    "big/huge fan": 0.7, "feels/felt/looks/looked cheap": -0.6, "cheap plastic": -0.6,
    "cheap quality": -0.6, "gets/got/getting hot": -0.5, "too hot": -0.4,
    "must-have": 0.7, "must try": 0.7,
    "must-try": 0.7, "will be back": 0.7, "will definitely be back": 0.8,
    "coming back": 0.4, "come back": 0.3, "go back": 0.3, "going back": 0.3,
    "will return": 0.6, "will definitely return": 0.8, "will be returning": 0.6,
    "keep coming back": 0.7, "works great/well/perfectly/fine/flawlessly": 0.8,
    "worked great/well/perfectly/fine/flawlessly": 0.8, "working great/well/perfectly": 0.8,
    "does the job": 0.5, "did the job": 0.5, "does the trick": 0.5, "did the trick": 0.5,
    "easy to use": 0.7, "easy to set up": 0.6, "quick and easy": 0.7,
    "fast and easy": 0.7, "problem solved": 0.6, "sorted it out": 0.5,
    "sorted out": 0.4, "fixed it": 0.4, "solved my problem/issue": 0.7,
    "love it": 0.8, "loved it": 0.8, "loving it": 0.8, "love this/these": 0.8,
    "top notch": 0.9, "first class": 0.8, "spot on": 0.7, "hit/hits the spot": 0.7,
    "life saver": 0.8, "extra mile": 0.8,
    "second to none": 0.9, "blown away": 0.8, "blew me away": 0.8,
    "exceeded my/our expectations": 0.8, "exceeded expectations": 0.8,
    "met my expectations": 0.5, "pleasantly surprised": 0.7, "good job": 0.7,
    "great job": 0.8, "well done": 0.6, "job well done": 0.8, "so good": 0.8,
    "very good": 0.8, "pretty good": 0.6, "really good": 0.8, "not bad": 0.3,
    "not too bad": 0.2, "no regrets": 0.6, "peace of mind": 0.5, "fair price": 0.5,
    "good price": 0.6, "great price": 0.7, "reasonably priced": 0.6,
    "well priced": 0.6, "fairly priced": 0.5, "good quality": 0.7,
    "high quality": 0.7, "great quality": 0.8, "excellent quality": 0.9,
    "well made": 0.6, "well built": 0.6, "well designed": 0.6, "well packaged": 0.5,
    "in perfect condition": 0.7, "in good condition": 0.5, "as described": 0.4,
    "as advertised": 0.4, "as expected": 0.3, "fits perfectly": 0.7,
}

# Second layer, written from general knowledge of operations and service complaints across
# telecom, banking and insurance, travel, software, utilities, returns and public
# transport, plus informal chat ("smh", "thx", "0 stars"). Entries here override the above.
SERVICE_WORDS: Final[dict[str, float]] = {
    # --- laughter and chat fillers are not judgements ("lol the refund took 9 days")
    "lol": 0.0, "lmao": 0.0, "lmfao": 0.0, "haha": 0.0, "hahaha": 0.0, "rofl": 0.0,
    "omg": 0.0, "tbh": 0.0, "imo": 0.0, "imho": 0.0, "btw": 0.0, "fyi": 0.0,
    # --- informal praise and complaint
    "thx": 0.4, "thnx": 0.4, "thanx": 0.4, "ty": 0.4, "tysm": 0.7, "cheers": 0.4,
    "gr8": 0.8, "luv": 0.7, "fab": 0.7, "brill": 0.7, "legend": 0.7, "legends": 0.7,
    "hero": 0.5, "heroes": 0.5, "godsend": 0.8, "game-changer": 0.8, "no-brainer": 0.6,
    "breeze": 0.5, "smh": -0.5, "fml": -0.7, "ffs": -0.6, "wtf": -0.6, "yikes": -0.5,
    "bummer": -0.5, "urgh": -0.5, "argh": -0.5, "grr": -0.5, "shitty": -0.8, "shite": -0.8,
    "dire": -0.7, "naff": -0.5, "sucky": -0.7, "shambles": -0.8, "shambolic": -0.8,
    "fiasco": -0.8, "farce": -0.7, "circus": -0.4, "maze": -0.4, "nightmarish": -0.9,
    # --- software and devices
    "crashy": -0.7, "freeze": -0.5, "frozen": -0.4, "bloated": -0.5, "intrusive": -0.5,
    "spammy": -0.6, "nag": -0.4, "nags": -0.4, "nagging": -0.4, "pop-ups": -0.3,
    "popups": -0.3, "pop-up": -0.2, "outdated": -0.4, "logouts": -0.5, "timeout": -0.4,
    "timeouts": -0.4, "workaround": 0.1, "polished": 0.5, "snappy": 0.6, "stable": 0.4,
    "robust": 0.5, "responsive": 0.6, "unintuitive": -0.6, "counterintuitive": -0.5,
    "buffering": -0.5, "unsynced": -0.4,
    # --- network and utilities
    "outages": -0.5, "disconnected": -0.4, "disconnects": -0.5, "disconnecting": -0.5,
    "disconnections": -0.5, "spotty": -0.5, "patchy": -0.5, "intermittent": -0.4,
    "throttled": -0.6, "throttling": -0.6, "interrupted": -0.4, "interruption": -0.4,
    "interruptions": -0.5, "blackout": -0.5, "restored": 0.4, "reconnected": 0.3,
    # --- money
    "overcharge": -0.7, "overcharges": -0.7, "overcharging": -0.8, "double-charged": -0.8,
    "overbilled": -0.8, "fee": -0.2, "fees": -0.2, "surcharge": -0.4, "surcharges": -0.4,
    "penalty": -0.4, "penalties": -0.4, "penalised": -0.6, "penalized": -0.6,
    "fined": -0.5, "extortionate": -0.8, "exorbitant": -0.7, "hike": -0.4, "hikes": -0.4,
    "hiked": -0.5, "unauthorised": -0.6, "unauthorized": -0.6, "fraudulent": -0.8,
    "rip-offs": -0.9, "cheaper": 0.3, "pricier": -0.3, "waived": 0.5, "reimbursed": 0.4,
    "compensated": 0.4, "goodwill": 0.4, "discount": 0.3, "discounted": 0.3,
    "saves": 0.4, "saved": 0.4, "approved": 0.4, "competitive": 0.3,
    # --- service handling
    "unresolved": -0.6, "unsolved": -0.5, "unfixed": -0.5, "escalated": -0.3,
    "escalate": -0.3, "escalation": -0.3, "ghosted": -0.7, "stonewalled": -0.7,
    "fobbed": -0.6, "chase": -0.3, "chasing": -0.4, "chased": -0.3, "scripted": -0.4,
    "robotic": -0.4, "runaround": -0.6, "promised": -0.2, "blamed": -0.5,
    "blaming": -0.5, "misinformed": -0.6, "misinformation": -0.6, "miscommunication": -0.5,
    "mix-up": -0.4, "mixup": -0.4, "botched": -0.8, "mishandled": -0.7, "lied": -0.7,
    "apologetic": 0.3, "empathetic": 0.6, "understanding": 0.3, "reassured": 0.4,
    "proactive": 0.6, "proactively": 0.5, "resolved": 0.5, "well-informed": 0.5,
    "hassle-free": 0.7, "fuss-free": 0.6, "fuss": -0.3,
    # --- travel and transport
    "stranded": -0.7, "stuck": -0.4, "bumped": -0.4, "rerouted": -0.2, "diverted": -0.3,
    "upgraded": 0.4, "complimentary": 0.5, "perk": 0.4, "perks": 0.4, "freebie": 0.4,
    "rammed": -0.5, "legroom": 0.0, "unreal": 0.5, "early": 0.2,
    # --- common "un-" and "mis-" words TextBlob lacks
    "unreasonable": -0.6, "unfair": -0.6, "unfairly": -0.6, "unjust": -0.6,
    "unusual": 0.0, "unannounced": -0.4, "unexplained": -0.5, "unpaid": -0.3,
    "unwanted": -0.5, "unnecessary": -0.4, "unclear": -0.4, "unhygienic": -0.8,
    "unsafe": -0.7, "unwelcoming": -0.6, "mislabelled": -0.5, "misleadingly": -0.6,
    "overpromised": -0.6, "underdelivered": -0.6,
    # nouns that the -er/-est stripping would misread ("number" is not "more numb")
    "number": 0.0, "numbers": 0.0, "broker": 0.0, "brokers": 0.0, "dealer": 0.0,
    "dealers": 0.0, "lover": 0.0, "lovers": 0.0, "waiter": 0.0, "waiters": 0.0,
    "foreigner": 0.0, "stranger": 0.0, "strangers": 0.0, "cleaner": 0.0, "cleaners": 0.0,
    "ranker": 0.0, "baser": 0.0, "adorer": 0.0,
    # second round (after reading the errors on tests/cx_comments_holdout.txt)
    "instantly": 0.4, "explained": 0.3,
}

SERVICE_PHRASES: Final[dict[str, float]] = {
    # --- ratings and verdicts
    "0/zero/1/one star/stars": -0.8, "no stars": -0.8, "half a star": -0.8,
    "minus/negative stars": -0.9, "2/two stars": -0.5, "4/four stars": 0.6,
    "give/gave it/them a 10": 0.8, "thanks for nothing": -0.8, "yeah right": -0.5,
    "so much for": -0.5, "what a joke/farce/shambles/waste": -0.8,
    "oh great/wonderful/brilliant/fantastic/perfect/joy/lovely": -0.4,
    "is it too much to ask": -0.7, "what's the point": -0.6, "what is the point": -0.6,
    "not bad at all": 0.5, "not too shabby": 0.5, "not half bad": 0.5, "not a bad": 0.4,
    "could be worse": 0.1, "couldn't/could not be worse": -0.9,
    "couldn't/could not be better/happier": 0.9, "can't/cannot get any worse": -0.8,
    "couldn't/could not care less": -0.7, "can't/cannot/couldn't fault": 0.7,
    "nothing to fault": 0.7, "nothing to complain about": 0.6,
    "can't/cannot recommend it/them/this/you highly enough": 0.9,
    "can't/cannot recommend highly enough": 0.9,
    "can't/cannot recommend them/it/this/you enough": 0.9,
    "can't/cannot thank them/you enough": 0.9, "can't/cannot praise them/it enough": 0.9,
    "never been so/more": 0.0, "never felt so": 0.0, "never been happier/better": 0.8,
    "never seen such": 0.0, "nothing but": 0.0, "no one but": 0.0, "not only": 0.0,
    "but also": 0.0, "no matter": 0.0, "no wonder": 0.0, "not to mention": 0.0,
    "no need": 0.0, "no doubt": 0.0, "no idea": -0.3, "not sure why": -0.3,
    "used to be good/great/better/decent/reliable/fast/excellent/amazing/nice": -0.5,
    "not what it used to be": -0.6, "not as good as": -0.5, "not as good": -0.5,
    "best decision": 0.8, "game changer": 0.8, "piece of cake": 0.5, "a breeze": 0.6,
    "rock solid": 0.7, "saved the day": 0.8, "saved me": 0.5, "time saver": 0.6,
    "time-saver": 0.6, "blazing fast": 0.8, "lightning fast": 0.8, "super fast": 0.7,
    "in no time": 0.5, "no time at all": 0.5, "in seconds/minutes": 0.4,
    "for weeks/months": -0.4, "weeks/months later": -0.4,
    "why did i wait": 0.6, "this/them/it/one sooner": 0.5, "switched sooner": 0.5,
    "had to call/chase/pay/wait/explain/ring/phone/email/repeat/reset/restart/contact/ask/keep": -0.4,
    "had to send/fill/go/return/cancel/complain/escalate/argue/fight/beg/threaten": -0.4,
    "keep having to": -0.5, "have to keep": -0.4, "every single time": -0.2,
    "since/after the update/upgrade/migration/redesign/change": -0.3,
    "since/after the last/latest/new/recent update/upgrade/version/redesign": -0.3,
    "supposed to": -0.4, "meant to be": -0.2, "was/were told": -0.2,
    "longer than expected/promised/quoted/advertised/stated/usual/necessary": -0.5,
    "more than quoted/expected/advertised/agreed": -0.4,
    "less than advertised/promised/expected/quoted": -0.5,
    "slower than advertised/promised/expected": -0.6,
    "higher than quoted/advertised/agreed/promised/stated/expected/usual": -0.5,
    "higher bill/bills/price/prices/fees/rates/premium/premiums/charges": -0.4,
    "lower bill/bills/price/prices/fees/rates/premium/premiums": 0.3,
    "day/days/week/minutes/mins/hour/hours early": 0.4,
    "thanks/thank in advance": 0.0, "thank you in advance": 0.0,
    # second round (after reading the errors on tests/cx_comments_holdout.txt)
    "thank you so/very much": 0.7, "thanks very much": 0.6, "thank you all": 0.5,
    "price/prices/bill/bills/premium/premiums/fees/fare/fares/rates went/gone/go/goes/came/come down": 0.4,
    "on a good day": -0.3, "down the road/street/hall/corridor": 0.0,
    "gave/give/given/offered/applied/issued a/the credit/discount/voucher/refund/goodwill": 0.5,
    "gave/give/given/offered me a credit/discount/voucher/refund": 0.5,
    "agreed to a/the/my refund": 0.5, "approved/issued/processed my/the/a refund": 0.4,
    "refund landed/arrived/came/cleared/appeared/showed": 0.4, "refund went/came through": 0.4,
    "is/are/was/were free": 0.3, "free of charge": 0.4, "at no extra cost/charge": 0.4,
    "would/could not go back/return/use/buy/book/fly/stay/recommend": -0.7,
    "would never go back/return/use/buy/book/fly/stay": -0.8,
    "snail's pace": -0.6, "snail pace": -0.6, "at a snail": -0.6,
    # --- wanting out: churn intent
    "will be cancelling/canceling/leaving/switching/moving": -0.6,
    "i'm/im cancelling/canceling/leaving/switching": -0.5,
    "am cancelling/canceling/leaving/switching": -0.5,
    "time to switch/leave/cancel/move": -0.6, "looking for another": -0.5,
    "cheaper/better elsewhere": -0.5,
    "cancel my subscription/account/contract/membership/policy": -0.5,
    "cancelling my subscription/account/contract/membership/policy": -0.5,
    "switching providers/banks/suppliers/carriers": -0.5,
    "closing my account": -0.5, "close my account": -0.4,
    # --- requests are complaints
    "please fix/sort/stop/add/bring/improve/update/change/reduce/respond/reply/refund": -0.4,
    "pls/plz fix/sort/stop/add/bring/improve/update/change/respond/reply/refund": -0.4,
    "fix your": -0.4, "needs fixing": -0.5, "need fixing": -0.5,
    "need/needs to be fixed": -0.5, "sort it out": -0.3, "sort out your": -0.5,
    "bring back": -0.4, "hire more": -0.4, "train your staff": -0.6,
    "get your act together": -0.8, "do better": -0.6, "step up": -0.3,
    # --- support handling
    "closed my ticket/case/complaint": -0.5, "ticket closed": -0.4, "case closed": -0.4,
    "closed the ticket/case/complaint": -0.4, "marked as resolved/solved/fixed/complete": -0.4,
    "canned response/reply/responses/replies/answer/email": -0.6,
    "copy and paste": -0.5, "copy-paste": -0.5, "copy-pasted": -0.5,
    "speak/talk/talking/speaking to a human/person/real": -0.4, "real person": -0.2,
    "broken promise/promises": -0.7, "as promised": 0.4, "kept me informed/updated/posted": 0.5,
    "kept informed/updated/posted": 0.5, "kept us informed/updated/posted": 0.5,
    "followed up": 0.3, "follow up": 0.0, "checked in": 0.0, "call back": 0.0,
    "called back": 0.3, "got back to me/us": 0.4, "passed from pillar to post": -0.7,
    "pillar to post": -0.6, "fobbed off": -0.7, "brushed off": -0.6,
    "on hold for": -0.6, "no questions asked": 0.6, "without any fuss": 0.6,
    "no fuss": 0.5, "without fuss": 0.5, "no hassle": 0.5, "no surprises": 0.5,
    "no hidden fees/charges/costs": 0.6, "no fees/charges": 0.4,
    "nobody/no-one can/could/would/will help/explain/tell": -0.6,
    "no one can/could/would/will help/explain/tell": -0.6,
    "does/did/do nothing": -0.5, "nothing happens/happened/works/worked": -0.5,
    "nothing has/had changed/improved/happened": -0.4, "nothing changed/improved": -0.4,
    "never turned/showed up": -0.8, "didn't/did not turn/show up": -0.7,
    "not take/taking long": 0.5, "didn't/did not take long": 0.5,
    "still pending": -0.5, "still charged/charging/billed/billing/took/taking": -0.5,
    "still broken/down": -0.5,
    # --- money
    "billed twice": -0.8, "billing error/mistake/errors/mistakes": -0.5,
    "price/prices/bill/bills/premium/premiums/fees/fare/fares/rent/rates went/gone/go/goes up": -0.5,
    "went/gone/goes up again": -0.5, "keeps/keep going up": -0.5,
    "raised/increased/hiked/doubled the/my/our price/prices/premium/rates/fees/bill": -0.5,
    "price rise/rises/increase/increases/hike/hikes": -0.5, "loyalty penalty/tax": -0.6,
    "early termination fee/fees": -0.5, "restocking fee": -0.5, "late fee/fees": -0.4,
    "got/had/have my money back": 0.3, "free returns": 0.5, "free upgrade": 0.7,
    "competitive rates/prices/price": 0.5, "value for money": 0.6,
    # --- network, apps and utilities
    "is/was/been/goes/went/go down again": -0.5, "is/was/been down": -0.5,
    "keeps/keep going down": -0.6, "dead zone/zones/spot/spots": -0.6,
    "drops/dropping/dropped/cuts/cutting/cut out": -0.5, "no signal/internet": -0.6,
    "logs/logged/kicks/kicked me out": -0.5, "keeps/keep logging me out": -0.6,
    "cut off": -0.5, "cut us/me off": -0.6, "locked out": -0.6,
    "froze/blocked/frozen/suspended my card/account": -0.6,
    "lost luggage/baggage/bag/bags/suitcase/parcel/package": -0.8,
    "missed connection/flight": -0.6, "long queue/queues/line/lines/wait/waits/delay/delays": -0.5,
    "paper thin": -0.5, "smelt/smelled/smells/smelling of/like": -0.3,
    "packed like sardines": -0.7, "standing room only": -0.4,
}

# Negators flip the next sentiment word within a short window ("not helpful").
NEGATORS: Final[frozenset[str]] = frozenset({
    "not", "no", "never", "none", "nothing", "nobody", "neither", "nor", "without",
    "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent",
    "wont", "wouldnt", "couldnt", "shouldnt", "havent", "hasnt", "hadnt", "aint",
    "hardly", "nowhere", "rarely", "seldom", "lack", "lacks", "lacked", "lacking",
    "no-one", "noone", "zero", "barely", "scarcely",
})

# Multipliers applied to the next sentiment word: boosters > 1, dampeners < 1.
INTENSIFIERS: Final[dict[str, float]] = {
    "very": 1.3, "really": 1.3, "so": 1.3, "too": 1.2, "extremely": 1.6,
    "incredibly": 1.5, "absolutely": 1.5, "totally": 1.4, "completely": 1.4,
    "utterly": 1.5, "truly": 1.3, "highly": 1.4, "super": 1.4, "exceptionally": 1.5,
    "especially": 1.2, "particularly": 1.2, "most": 1.2, "ever": 1.1, "quite": 1.1,
    "remarkably": 1.4, "seriously": 1.3, "definitely": 1.2, "genuinely": 1.2,
    "insanely": 1.5, "ridiculously": 1.4, "amazingly": 1.4, "awfully": 1.3,
    "terribly": 1.3, "damn": 1.3, "damned": 1.3, "freaking": 1.3, "fucking": 1.4,
    "hugely": 1.4, "massively": 1.4, "overly": 1.2, "pretty": 1.1, "fairly": 0.8,
    "rather": 0.9, "somewhat": 0.7, "slightly": 0.6, "mildly": 0.6, "marginally": 0.6, "huge": 1.3,
    "kinda": 0.7, "sorta": 0.7, "partly": 0.7, "almost": 0.8,
    "little": 0.8, "bit": 0.7, "mostly": 0.9, "reasonably": 0.9, "relatively": 0.9,
}

# Words that weaken what precedes them and stress what follows ("ok but slow").
CONTRAST_AFTER: Final[frozenset[str]] = frozenset({"but", "however", "yet", "except", "though"})
# Two-word openers that negate what follows ("anything but helpful", "far from perfect").
NEGATING_PAIRS: Final[frozenset[tuple[str, str]]] = frozenset({
    ("anything", "but"), ("far", "from"), ("less", "than"), ("short", "of"),
})
# Multi-word contrasts, by their first two words -> tokens used. "that said" and "on the
# other hand" weaken what came before; "apart from X" weakens its own clause, while
# "apart from that" / "other than that" weaken what came before.
CONTRAST_PAIRS: Final[dict[tuple[str, str], int]] = {
    ("that", "said"): 2, ("having", "said"): 2, ("then", "again"): 2, ("even", "so"): 2,
    ("apart", "from"): 2, ("aside", "from"): 2, ("other", "than"): 2,
}
EXCEPT_PAIRS: Final[frozenset[tuple[str, str]]] = frozenset({
    ("apart", "from"), ("aside", "from"), ("other", "than"),
})
# A wait in days or more, after a verb of waiting or chasing, is a complaint.
DURATION_UNITS: Final[frozenset[str]] = frozenset({
    "day", "days", "week", "weeks", "month", "months",
})
WAIT_WORDS: Final[frozenset[str]] = frozenset({
    "took", "take", "takes", "taking", "waited", "wait", "waiting", "waits", "trying",
    "tried", "chasing", "chased", "still", "after", "pending", "overdue", "late",
})
QUANTITY_WORDS: Final[frozenset[str]] = frozenset({
    "a", "an", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "eleven", "twelve", "few", "several", "couple", "many", "multiple", "whole",
    "different", "separate", "numerous", "countless", "dozens", "endless",
})
# Shorter waits count only after a word of waiting ("waited 40 minutes", "delayed 5 hours").
SHORT_WAIT_UNITS: Final[frozenset[str]] = frozenset({
    "hour", "hours", "hrs", "minutes", "mins",
})
SHORT_WAIT_WORDS: Final[frozenset[str]] = frozenset({
    "waited", "waiting", "wait", "hold", "queue", "queued", "queuing", "queueing", "late",
    "delayed", "delay", "stuck", "stranded", "sat",
})
# Having to get in touch again and again is effort, and effort is a complaint.
CONTACT_UNITS: Final[frozenset[str]] = frozenset({
    "calls", "attempts", "tries", "emails", "times", "visits", "chats", "messages",
    "people", "agents", "departments", "reps", "representatives", "engineers",
})
CONTACT_WORDS: Final[frozenset[str]] = WAIT_WORDS | frozenset({
    "called", "calling", "phoned", "rang", "emailed", "asked", "contacted", "messaged",
    "explain", "explained", "spoke", "spoken", "transferred", "passed", "visited",
    "complained", "chase", "call", "contact", "repeat", "repeated",
})
# "will definitely stay here again": an intention to come back; negated, a farewell.
RETURN_INTENT: Final[frozenset[str]] = frozenset({
    "will", "would", "i'll", "we'll", "i'd", "we'd", "definitely", "gladly", "happily",
    "surely", "certainly",
})
SHORT_UNITS: Final[frozenset[str]] = frozenset({
    "second", "seconds", "minute", "minutes", "min", "mins", "hour", "hours", "hrs",
    "day", "days", "24", "48",
})
# Questions opened like this are complaints more often than not ("where is my refund?").
COMPLAINT_OPENERS: Final[frozenset[tuple[str, str]]] = frozenset({
    ("where", "is"), ("where", "are"), ("where's", "my"), ("how", "come"), ("how", "long"),
    ("how", "hard"), ("how", "difficult"), ("how", "many"), ("when", "will"),
    ("when", "is"), ("when", "are"), ("when", "can"), ("what", "happened"),
    ("who", "thought"), ("who", "designed"), ("what's", "the"), ("is", "it"),
    ("are", "you"), ("do", "you"), ("does", "anyone"), ("why", "is"),
})

# Words whose own clause is the weaker one ("although it was late, it came intact").
CONTRAST_BEFORE: Final[frozenset[str]] = frozenset({
    "although", "while", "whereas", "despite", "if", "unless",
})

# TextBlob adjectives that, in reviews, count or locate things rather than judge them.
NEUTRAL_WORDS: Final[frozenset[str]] = frozenset({
    "more", "first", "other", "much", "many", "little", "long", "new", "old", "right",
    "sure", "few", "free", "high", "low", "full", "whole", "last", "same", "own",
    "only", "real", "enough", "back", "big", "large", "small", "short", "next", "second",
    "third", "final", "main", "certain", "particular", "several", "various", "different",
    "general", "usual", "common", "total", "entire", "actual", "public", "open",
    "extra", "less", "least", "most", "just", "even", "still", "very", "really", "so",
    "pretty", "quite", "far", "near", "due", "previous", "recent", "current", "regular",
    "original", "single", "double", "daily", "early", "away", "light", "dark", "black",
    "white", "red", "blue", "green", "live", "possible", "available", "ready", "able",
    "overall", "such", "human", "social", "mobile", "local",
    "international", "national", "cell", "wireless", "electronic", "digital",
    "external",
    "internal", "standard", "normal", "basic", "simple", "plain", "mere", "deep", "wide",
    "giant", "sound", "everyday", "legal", "top", "bottom", "inside", "outside", "upper",
    "lower", "hard",
})

# Emoticons and emoji with their polarity; they also count as English-neutral tokens.
EMOTICONS: Final[dict[str, float]] = {
    ":)": 0.6, ":-)": 0.6, ":]": 0.5, "=)": 0.5, ":d": 0.8, ":-d": 0.8, "xd": 0.6,
    ";)": 0.4, ";-)": 0.4, ":p": 0.3, ":-p": 0.3, "<3": 0.7, ":(": -0.6, ":-(": -0.6,
    ":[": -0.5, "=(": -0.5, ":'(": -0.7, ":/": -0.3, ":-/": -0.3, ":|": -0.2, ">:(": -0.8,
    "d:": -0.6,
    "\U0001f600": 0.7, "\U0001f603": 0.7, "\U0001f604": 0.7, "\U0001f601": 0.7,
    "\U0001f60a": 0.7, "\U0001f642": 0.5, "\U0001f60d": 0.9, "\U0001f970": 0.9,
    "\U0001f618": 0.7, "\U0001f44d": 0.6, "\U0001f44f": 0.6, "\U0001f64f": 0.4,
    "\U0001f389": 0.6, "\U0001f525": 0.5, "\U0001f4af": 0.7, "\u2764": 0.8,
    "\u2764\ufe0f": 0.8, "\U0001f496": 0.8, "\u2b50": 0.6, "\U0001f31f": 0.6,
    "\u2705": 0.4, "\U0001f602": 0.4, "\U0001f923": 0.4, "\U0001f60e": 0.5,
    "\U0001f641": -0.5, "\u2639": -0.5, "\U0001f61e": -0.6, "\U0001f622": -0.6,
    "\U0001f62d": -0.7, "\U0001f620": -0.8, "\U0001f621": -0.9, "\U0001f92c": -0.9,
    "\U0001f44e": -0.6, "\U0001f612": -0.5, "\U0001f629": -0.6, "\U0001f62b": -0.6,
    "\U0001f624": -0.6, "\U0001f644": -0.5, "\U0001f615": -0.4, "\U0001f61f": -0.5,
    "\U0001f494": -0.7, "\U0001f4a9": -0.7, "\u274c": -0.4, "\U0001f922": -0.8,
    "\U0001f92e": -0.8,
    # more emoticons and emoji
    "^_^": 0.6, "^^": 0.5, ":')": 0.5, ":*": 0.5, ":-*": 0.5, ";(": -0.5, ":@": -0.7,
    "-_-": -0.4, "</3": -0.7, ":((": -0.7, ":-((": -0.7, ":))": 0.7, ":-))": 0.7,
    "\U0001f44c": 0.6, "\U0001f64c": 0.7, "\U0001f929": 0.9, "\U0001f973": 0.7,
    "\U0001f4aa": 0.5, "\u2728": 0.4, "\U0001f63b": 0.8, "\U0001f917": 0.6,
    "\U0001f60c": 0.4, "\u263a": 0.6, "\U0001f609": 0.4, "\U0001f607": 0.6,
    "\U0001f947": 0.6, "\U0001f3c6": 0.6, "\U0001f49a": 0.7, "\U0001f499": 0.7,
    "\U0001f49c": 0.7, "\U0001f9e1": 0.7, "\U0001f49b": 0.7, "\U0001f90d": 0.7,
    "\U0001f495": 0.7, "\U0001f497": 0.7, "\U0001f498": 0.7, "\u2665": 0.7,
    "\U0001f60b": 0.6, "\U0001f606": 0.5, "\U0001f680": 0.4,
    "\U0001f610": -0.2, "\U0001f611": -0.3, "\U0001f62c": -0.4, "\U0001f616": -0.6,
    "\U0001f623": -0.5, "\U0001f613": -0.4, "\U0001f630": -0.5, "\U0001f631": -0.5,
    "\U0001f926": -0.6, "\U0001f937": -0.1, "\U0001f634": -0.4, "\U0001f971": -0.4,
    "\U0001f40c": -0.4, "\U0001f4b8": -0.3, "\U0001f5d1": -0.6, "\U0001f921": -0.6,
    "\U0001f614": -0.5, "\U0001f625": -0.4, "\U0001f92f": -0.3,
    "\U0001f47f": -0.8, "\U0001f480": -0.2,
    "\U0001f6ab": -0.4, "\u26d4": -0.4,
}

def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Frequent English function words: evidence that a Latin-script comment is English.
EN_STOPWORDS: Final[frozenset[str]] = _wordset(
    """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours out over own same she should so some such than that the
    their theirs them then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours
    yourself yourselves don't didn't doesn't isn't wasn't won't can't couldn't wouldn't
    i'm i've it's that's there's they're we're you're i'd i'll got get really never
    also again ever still even"""
)

# Function words of other Latin-script languages: evidence against English.
FOREIGN_STOPWORDS: Final[frozenset[str]] = _wordset(
    """der die das und ist nicht ein eine einen ich sehr mit auf für zu es sie wir aber
    auch schon noch kein keine war wurde hat haben bei von dem den des sich nach wie
    wird mir mich uns euch ihr gut schlecht zum zur über immer wieder leider
    le la les un une des est et pas très avec pour dans que qui sur ce cette je vous nous
    mais ou du au aux été était sont ont bien mal merci
    el los las es muy con para por que en del una uno pero como más está fue son
    bueno malo gracias nada siempre también
    il di che è molto non per con una sono della questo ma anche grazie
    het een niet zeer met voor maar ook geen erg goed slecht
    o os um uma não muito com para mas por obrigado também"""
)


# Nouns for things a customer wants: "no reply", "without a refund" are complaints even
# when the noun itself carries no (or a negative) score.
WANTED_NOUNS: Final[frozenset[str]] = frozenset({
    "refund", "refunds", "response", "responses", "reply", "replies", "answer", "answers",
    "help", "support", "signal", "reception", "sound", "flavor", "flavour", "taste",
    "service", "update", "updates", "apology", "explanation", "communication",
    "information", "info", "callback", "call", "email", "instructions", "warranty",
    "option", "options", "effort", "care", "point", "luck", "difference", "improvement",
    "power", "charge", "connection", "internet", "wifi", "seasoning", "choice", "variety",
    "tracking", "notice", "notification", "compensation", "solution", "resolution",
    # things a customer of a network, bank, airline or app expects to have or to do
    "warning", "water", "heating", "heat", "gas", "electricity", "lights", "coverage",
    "network", "dial", "legroom", "fix", "fixing", "progress", "feedback", "contact",
    "human", "agent", "login", "log", "access", "connect", "pay", "reach", "hear", "load",
    "download", "install", "upload", "sync", "cancel", "find", "acknowledgement",
    "confirmation", "receipt", "record", "follow-up", "followup", "courtesy", "sense",
    # done-for-me words: "not refunded", "still not fixed", "never returned my call"
    "refunded", "fixed", "resolved", "solved", "sorted", "answered", "replied",
    "responded", "delivered", "arrived", "received", "receive", "credited", "reimbursed",
    "returned", "processed", "heard", "helped", "connected", "restored", "honoured",
    "honored", "acknowledged", "contacted",
})

# Contractions are split so "doesn't", "doesnt" and "does not" read alike.
_CONTRACTIONS: Final[dict[str, tuple[str, ...]]] = {
    "can't": ("can", "not"), "cant": ("can", "not"), "cannot": ("can", "not"),
    "won't": ("will", "not"), "wont": ("will", "not"), "ain't": ("is", "not"),
    "shan't": ("shall", "not"), "dont": ("do", "not"), "doesnt": ("does", "not"),
    "didnt": ("did", "not"), "isnt": ("is", "not"), "wasnt": ("was", "not"),
    "arent": ("are", "not"), "werent": ("were", "not"), "couldnt": ("could", "not"),
    "wouldnt": ("would", "not"), "shouldnt": ("should", "not"), "havent": ("have", "not"),
    "hasnt": ("has", "not"), "hadnt": ("had", "not"),
}

_EMOTICON_ALTS: Final = "|".join(
    # ":/" must not be read out of a web address ("https://").
    re.escape(e) + ("(?!/)" if e.endswith("/") else "")
    for e in sorted((e for e in EMOTICONS if not e[0].isalnum()), key=len, reverse=True)
)
# Where an emoticon can start: the engine tries the 128 alternatives only there, not at
# every letter (a fifth of the tokenizer's time).
_EMOTICON_STARTS: Final = "[" + "".join(sorted({re.escape(e[0]) for e in EMOTICONS if not e[0].isalnum()})) + "]"
# One pass: emoticons, emoji, numbers, words (with inner ' or -), then punctuation.
TOKEN_RE: Final = re.compile(
    rf"(?P<emo>(?={_EMOTICON_STARTS})(?:{_EMOTICON_ALTS}))"
    r"|(?P<emoji>[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2B55]\uFE0F?)"
    r"|(?P<num>\d+(?:[./]\d+)?)"
    r"|(?P<word>[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*)"
    r"|(?P<punct>[!?.,;:]+)",
    re.IGNORECASE,
)


@lru_cache(maxsize=65536)  # bounded: these are customers' own words
def split_word(word: str) -> tuple[str, ...]:
    """Lower-case a word token and split negative contractions into "<verb> not"."""
    low = word.lower().replace("\u2019", "'")
    if low in _CONTRACTIONS:
        return _CONTRACTIONS[low]
    if low.endswith("n't") and len(low) > 3:
        return (low[:-3], "not")
    return (low,)


def words_of(text: str) -> list[str]:
    """Normalised word tokens of a text, contractions split (used for phrase keys)."""
    out: list[str] = []
    for match in TOKEN_RE.finditer(text):
        token = match.group()
        if match.lastgroup == "word":
            out.extend(split_word(token))
        elif match.lastgroup != "punct":
            out.append(token.lower())
    return out


def _expand(pattern: str) -> list[str]:
    """Every phrase a pattern with "a/b" slots stands for."""
    combos: list[list[str]] = [[]]
    for slot in pattern.split():
        options = slot.split("/")
        combos = [[*combo, option] for combo in combos for option in options]
    return [" ".join(combo) for combo in combos]


_WORD_RE: Final = re.compile(r"<word\s([^>]*?)/?>")
_ATTR_RE: Final = re.compile(r'(\w+)="([^"]*)"')


def _textblob_xml() -> Path:
    # find_spec locates the package without importing it (which would pull in NLTK).
    spec = find_spec("textblob")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("textblob is not installed; its sentiment lexicon is required")
    return Path(next(iter(spec.submodule_search_locations))) / "en" / "en-sentiment.xml"


@cache
def textblob_lexicon() -> dict[str, tuple[float, float, float]]:
    """TextBlob's word -> (polarity, subjectivity, intensity), averaged as TextBlob does."""
    senses: dict[str, dict[str | None, list[tuple[float, float, float]]]] = {}
    # A regex reads this flat one-element-per-line file; no XML parser is needed.
    for match in _WORD_RE.finditer(_textblob_xml().read_text(encoding="utf-8")):
        attrs = dict(_ATTR_RE.findall(match.group(1)))
        form = attrs.get("form")
        if not form:
            continue
        psi = (float(attrs.get("polarity", 0.0)), float(attrs.get("subjectivity", 0.0)),
               float(attrs.get("intensity", 1.0)))
        senses.setdefault(form.lower(), {}).setdefault(attrs.get("pos"), []).append(psi)
    # Same averaging as textblob._text.Sentiment.load: senses per tag, then tags.
    return {form: _mean3([_mean3(v) for v in by_pos.values()])
            for form, by_pos in senses.items()}


def _mean3(values: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    n = len(values)
    return (sum(v[0] for v in values) / n, sum(v[1] for v in values) / n,
            sum(v[2] for v in values) / n)


def phrase_subjectivity(polarity: float) -> float:
    """Subjectivity for a hand-written entry, which has only a polarity."""
    # Hand-written entries carry no subjectivity; stronger judgements read as more subjective.
    return round(min(1.0, 0.3 + 0.7 * abs(polarity)), 3)


@cache
def word_table() -> dict[str, tuple[float, float]]:
    """Single-word lexicon: word -> (polarity, subjectivity), TextBlob plus CX overrides."""
    table: dict[str, tuple[float, float]] = {}
    for word, (polarity, subjectivity, _intensity) in textblob_lexicon().items():
        # Zero-polarity entries would only dilute the average; quantifiers are not opinions.
        if polarity == 0.0 or " " in word or word in NEUTRAL_WORDS or word in INTENSIFIERS:
            continue
        table[word] = (polarity, subjectivity)
    for word, polarity in (*CX_WORDS.items(), *SERVICE_WORDS.items()):
        # A 0.0 entry stays as a known-neutral word, so no base form is tried for it.
        table[word] = (polarity, phrase_subjectivity(polarity) if polarity else 0.0)
    for word in EMOTICONS:
        table.pop(word, None)
    return table


@cache
def phrase_table() -> dict[tuple[str, ...], float]:
    """Multi-word lexicon keyed by normalised token tuples; 0.0 blocks a shorter match."""
    table: dict[tuple[str, ...], float] = {}
    for pattern, polarity in (*CX_PHRASES.items(), *SERVICE_PHRASES.items()):
        for phrase in _expand(pattern):
            key = tuple(words_of(phrase))
            if len(key) > 1:
                table.setdefault(key, polarity)
    return table


@cache
def max_phrase_len() -> int:
    """Longest phrase in tokens, bounding the matcher's look-ahead."""
    return max(len(key) for key in phrase_table())


@cache
def phrase_starts() -> frozenset[str]:
    """First tokens of all phrases, so most positions skip the phrase look-up."""
    return frozenset(key[0] for key in phrase_table())


@cache
def phrase_lengths() -> dict[str, tuple[int, ...]]:
    """First token -> the lengths of the phrases it starts, longest first."""
    lengths: dict[str, set[int]] = {}
    for key in phrase_table():
        lengths.setdefault(key[0], set()).add(len(key))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


@cache
def phrase_pairs() -> frozenset[tuple[str, str]]:
    """First two tokens of all phrases: most common first words stop at this check."""
    return frozenset((key[0], key[1]) for key in phrase_table())


@cache
def english_vocabulary() -> frozenset[str]:
    """Words that count as evidence of English: stop words, lexicon, TextBlob's word list."""
    phrase_words = {word for key in phrase_table() for word in key}
    # en-spelling.txt (Norvig's word counts, shipped with TextBlob) holds ~29k common words;
    # it includes some German and French function words, so those are left out here.
    spelling = _textblob_xml().with_name("en-spelling.txt")
    common: set[str] = set()
    for line in spelling.read_text(encoding="utf-8").splitlines():
        word = line.split(" ", 1)[0]
        if word and not word.startswith(";"):
            common.add(word.lower())
    known = set(textblob_lexicon()) | NEUTRAL_WORDS | set(word_table())
    vocabulary = ((common | known) - FOREIGN_STOPWORDS) | EN_STOPWORDS
    return frozenset(vocabulary | set(INTENSIFIERS) | phrase_words | NEGATORS)


# --- Russian ---------------------------------------------------------------------------------

# Longest endings first; a stem keeps at least four letters.
_RU_ENDINGS: Final = tuple(sorted(_wordset(
    "иями ями ами ией ией ого его ему ому ыми ими ых их ую юю ая яя ое ее ые ие ый ий ой "
    "ом ем ам ям ах ях ов ев ей ою ею иям ием ия ья ье ьи ью ию ании ение ения ением ание "
    "ания анием ться тся лся лась лось лись ала яла ила ыла ело ило али яли или ыли ал ял "
    "ил ыл ет ют ут ит ат ят ешь ишь ть а я о е ы и у ю ь"
), key=len, reverse=True))

@lru_cache(maxsize=65536)
def stem_ru(word: str) -> str:
    """Strip one inflectional ending, keeping a stem of at least four letters."""
    word = word.lower().replace("ё", "е")
    for ending in _RU_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


# A small hand-written Russian customer-service lexicon, looked up by stem (stem_ru), so
# one form per word is enough. Russian comments with no hit here stay unscored.
RU_WORDS: Final[dict[str, float]] = {
    "хороший": 0.7, "хорошо": 0.7, "отличный": 0.9, "отлично": 0.9, "прекрасный": 0.9,
    "прекрасно": 0.9, "замечательный": 0.9, "замечательно": 0.9, "великолепно": 1.0,
    "идеально": 1.0, "супер": 0.8, "лучший": 0.9, "лучше": 0.4, "неплохо": 0.4,
    "неплохой": 0.4, "нормально": 0.2, "быстро": 0.5, "быстрый": 0.5, "оперативно": 0.6,
    "вовремя": 0.5, "вежливый": 0.6, "вежливо": 0.6, "приветливый": 0.6, "доброжелательный": 0.6,
    "удобный": 0.6, "удобно": 0.6, "понятный": 0.4, "понятно": 0.4, "легко": 0.4,
    "понравилось": 0.7, "нравится": 0.6, "люблю": 0.7, "спасибо": 0.5, "благодарю": 0.6,
    "благодарность": 0.6, "рекомендую": 0.7, "доволен": 0.7, "довольна": 0.7,
    "довольны": 0.7, "молодцы": 0.8, "молодец": 0.8, "помогли": 0.6, "помог": 0.6,
    "профессиональный": 0.6, "профессионально": 0.6, "качественный": 0.6,
    "качественно": 0.6, "вкусно": 0.8, "вкусный": 0.8, "аккуратно": 0.5, "аккуратный": 0.5,
    "чисто": 0.4, "недорого": 0.4, "выгодно": 0.5, "рад": 0.6, "рады": 0.6,
    "плохой": -0.7, "плохо": -0.7, "ужасный": -1.0, "ужасно": -1.0, "отвратительный": -1.0,
    "отвратительно": -1.0, "кошмар": -0.9, "безобразие": -0.9, "медленно": -0.5,
    "медленный": -0.5, "долго": -0.5, "опоздал": -0.6, "опоздание": -0.6, "задержка": -0.6,
    "задержали": -0.6, "грубый": -0.8, "грубо": -0.8, "хамство": -0.9, "нахамил": -0.9,
    "хамский": -0.9, "сломан": -0.7, "сломался": -0.7, "сломанный": -0.7,
    "повреждена": -0.7, "поврежден": -0.7, "повреждённый": -0.7, "разбит": -0.7,
    "разбита": -0.7, "вылетает": -0.7, "зависает": -0.6, "глючит": -0.7, "ошибка": -0.4,
    "обман": -0.9, "обманули": -0.9, "развод": -0.8, "разочарован": -0.7,
    "разочарование": -0.7, "недоволен": -0.7, "недовольна": -0.7, "жалоба": -0.5,
    "проблема": -0.4, "проблемы": -0.4, "потеряли": -0.6, "дорого": -0.3, "грязно": -0.6,
    "грязный": -0.6, "невкусно": -0.6, "хуже": -0.6, "худший": -1.0, "бесполезно": -0.7,
    "бесполезный": -0.7, "невозможно": -0.6, "неудобно": -0.5, "неудобный": -0.5,
    "хамят": -0.9, "игнорируют": -0.7, "дважды": -0.2, "списали": -0.3, "жду": -0.4,
    "ждал": -0.3, "ждала": -0.3, "очередь": -0.3,
    "ужас": -0.9, "отстой": -0.9, "опаздывает": -0.6, "опаздывают": -0.6, "претензия": -0.5,
    "устраивает": 0.5, "устроило": 0.5, "полезный": 0.5, "полезно": 0.5, "внимательный": 0.6,
    "четко": 0.5, "дешево": 0.3, "ошибок": -0.4,
}

# Set phrases read as one word; "могло быть лучше" is a complaint, not praise ("could be
# better" is -0.4 in English too).
RU_PHRASES: Final[dict[tuple[str, ...], float]] = {
    ("так", "себе"): -0.3,
    ("могло", "быть", "лучше"): -0.4, ("могло", "бы", "быть", "лучше"): -0.4,
    ("могло", "быть", "и", "лучше"): -0.4, ("могли", "бы", "лучше"): -0.4,
    ("могли", "бы", "и", "лучше"): -0.4,
}
RU_PHRASE_STARTS: Final[frozenset[str]] = frozenset(phrase[0] for phrase in RU_PHRASES)
# "Проблем не было", "претензий нет": the negation follows what it denies.
RU_DENIED_AFTER: Final[frozenset[str]] = frozenset({"было", "был", "была", "были", "возникло",
                                                    "возникало", "возникали"})

# Things a customer wants: "не ответили", "не перезвонили" are complaints.
RU_WANTED: Final[frozenset[str]] = frozenset({
    "ответ", "отвечает", "отвечают", "ответили", "перезвонил", "перезвонили", "пришла",
    "пришел", "пришло", "доставили", "вернули", "работает", "работают", "приехал",
    "привезли", "решили", "помогли", "помог", "получил", "получила", "получили",
})
RU_NEGATORS: Final[frozenset[str]] = frozenset({"не", "нет", "ни", "никогда", "без", "никто",
                                                 "никаких"})
RU_INTENSIFIERS: Final[dict[str, float]] = {
    "очень": 1.3, "совсем": 1.3, "слишком": 1.2, "крайне": 1.5, "абсолютно": 1.4,
    "просто": 1.1, "самый": 1.2, "немного": 0.7, "чуть": 0.7, "довольно": 0.9,
}
RU_CONTRAST: Final[frozenset[str]] = frozenset({"но", "однако", "зато"})


@cache
def ru_word_table() -> dict[str, float]:
    """Russian lexicon keyed by stem."""
    return {stem_ru(word): polarity for word, polarity in RU_WORDS.items()}


@cache
def ru_wanted_stems() -> frozenset[str]:
    """Stems of RU_WANTED."""
    return frozenset(stem_ru(word) for word in RU_WANTED)
