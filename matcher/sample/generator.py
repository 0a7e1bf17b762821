"""Seeded generator of a realistic sample dataset: creators, posts, brands, comments, outcomes
of past campaigns and ground-truth labels.

**Comments** (``comments.<ext>``) are a sample of the comments under each post: 2-10
audience comments (never more rows, replies included, than the post's ``comments`` count,
which stays the platform total), then the creator's replies. Audience authors (``u0001234``)
are a few loyal regulars per creator and many one-off accounts. Texts are questions about
the niche (each ends with ``?``; nothing else does), substantive remarks and generic praise
("nice pic", "🔥🔥🔥"). A reply has the creator as ``author_id``, starts with ``@`` and the
asker's id, and comes 0.5-12 h after the question for a creator labelled
``answers_questions=high`` (who answers 60-95% of questions; half of the ordinary creators)
and 24-96 h after for ``low`` (0-20%; every fake and brand account). ``is_creator_reply``
is blank in ~30% of rows, for ingest to derive. About 3% of ordinary creators are in
engagement pods (``in_pod=1``) of 8-12 creators, mostly of one niche: 75-90% of their
comments come within the hour from the pod's 6-9 shared accounts, short generic praise
("Amazing as always!!"). ``bought_engagement`` fakes get 90%+ generic comments from
one-off accounts.

**Outcomes** (``outcomes.<ext>``) are results of past campaigns at a fixed budget, so a
bigger account does not convert more by itself. Each brand worked with ~40 creators (brand
accounts excluded), half of them from the brand's niche and the rest drawn from everyone;
~10% of those worked with it twice. For creator c and brand b::

    outcome = 25 * fit * genuine * level * honest * responsive * lognormal(0, 0.5)

``fit`` is 1 in the brand's niche and 0.15 elsewhere (a keyword-stuffed bio does not
change a creator's niche); ``genuine`` is 0.10/0.15/0.25/0.35 for the four fake patterns
(bought_followers, bought_engagement, mass_following, engagement_burst), 0.45 for pod
members and 1 otherwise; ``level`` is the creator's true engagement rate over the median
of its tier, clipped to 0.5-1.5 and squared; ``honest`` is 0.7 with an undisclosed
sponsorship; ``responsive`` is 1.2 for ``answers_questions=high``. So a learner should
find topical fit first (about 6x), then audience genuineness (fakes and pods convert
poorly), then engagement relative to the tier, disclosure and answering questions.
``date`` is a day within the 180 days before the reference date (blank for ~5% of rows).

Conversations and outcomes draw from random streams of their own, so the other files are
the same whether or not they are written.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import math
import random
import re
import string
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from matcher.errors import ConfigError

__all__ = [
    "NICHES",
    "REFERENCE_DATE",
    "WINDOW_DAYS",
    "FAKE_PATTERNS",
    "TIERS",
    "SampleInfo",
    "generate",
    "tier_of",
    "main",
]

# --------------------------------------------------------------------------------------
# Constants of the data contract
# --------------------------------------------------------------------------------------

#: Every post is dated within ``WINDOW_DAYS`` days before this instant (UTC).
REFERENCE_DATE = "2026-11-01T00:00:00Z"
WINDOW_DAYS = 180
_REFERENCE_EPOCH = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp())

#: Follower tiers, in order: nano <10k, micro 10k–100k, mid 100k–500k, macro 500k–1M, mega >1M.
TIERS: tuple[str, ...] = ("nano", "micro", "mid", "macro", "mega")
_TIER_EDGES = np.array([10_000, 100_000, 500_000, 1_000_000], dtype=np.int64)
# Engagement rate ((likes + comments) / followers) per post, low and high end per tier.
_ER_LO = np.array([0.050, 0.020, 0.010, 0.008, 0.006])
_ER_HI = np.array([0.080, 0.040, 0.020, 0.013, 0.012])
_ER_MEDIAN = (_ER_LO + _ER_HI) / 2.0

FAKE_PATTERNS: tuple[str, ...] = (
    "bought_followers",
    "bought_engagement",
    "mass_following",
    "engagement_burst",
)

_FORMATS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}

_CREATOR_COLUMNS = (
    "creator_id", "handle", "platform", "bio", "followers", "following", "country", "language",
)
_POST_COLUMNS = (
    "post_id", "creator_id", "text", "posted_at", "likes", "comments", "views", "shares",
    "sponsored",
)
_BRAND_COLUMNS = (
    "brand_id", "name", "description", "countries", "languages", "min_followers",
    "max_followers", "competitors", "exclude_creators",
)
_LABEL_COLUMNS = (
    "creator_id", "niche", "tier", "is_fake", "fake_pattern", "is_brand_account",
    "stuffed_bio_niche", "has_undisclosed_sponsorship", "answers_questions", "in_pod",
)
_BRAND_LABEL_COLUMNS = ("brand_id", "niche")
_COMMENT_COLUMNS = ("comment_id", "post_id", "author_id", "text", "created_at", "is_creator_reply")
_OUTCOME_COLUMNS = ("brand_id", "creator_id", "outcome", "date")

# Injection rates (fractions of creators / posts).
_FAKE_RATE = 0.04
_BRAND_ACCOUNT_RATE = 0.015
_STUFFED_RATE = 0.015
_GENERIC_CAPTION_RATE = 0.10
_YOUTUBE_BLANK_FOLLOWERS = 0.30
# Conversations: share of ordinary creators who answer most questions, share of ordinary
# creators in engagement pods, share of comment rows whose is_creator_reply is left blank,
# and the size of the audience id space (u0000001 ... u9999999).
_HIGH_ANSWER_SHARE = 0.5
_POD_RATE = 0.03
_BLANK_REPLY_FLAG = 0.30
_AUDIENCE_IDS = 10_000_000

# --------------------------------------------------------------------------------------
# Vocabulary per niche
# --------------------------------------------------------------------------------------
# Each niche has slot lists (any key a template names), caption templates, bio material,
# hashtags, keywords (for stuffed bios), sponsor names and name parts for brand accounts.
# A template field ending in a digit ({product2}) draws another value of the same slot.

_NICHE_DATA: dict[str, dict[str, Any]] = {
    "skincare": {
        "handle_words": ["glow", "skin", "serum", "dewy", "barrier", "spf", "derm", "clearskin"],
        "roles": ["Licensed esthetician", "Skincare nerd", "Cosmetic chemist in training",
                  "Acne-prone skin diarist", "Skin barrier advocate", "Skincare educator"],
        "bio_phrases": ["decoding ingredient lists", "sharing honest serum reviews",
                        "repairing my skin barrier one routine at a time", "wearing SPF every single day",
                        "documenting my retinol journey", "building simple routines for sensitive skin"],
        "emoji": ["✨", "🧴", "💧", "🌿", "☀️"],
        "product": ["vitamin C serum", "retinol serum", "hyaluronic acid serum", "mineral sunscreen",
                    "SPF 50 fluid", "gel cleanser", "ceramide moisturizer", "niacinamide serum",
                    "azelaic acid cream", "cleansing balm", "exfoliating toner", "eye cream",
                    "peptide serum", "barrier cream", "acne spot treatment", "lip balm"],
        "ingredient": ["retinol", "niacinamide", "ceramides", "squalane", "azelaic acid", "vitamin C",
                       "hyaluronic acid", "centella asiatica", "salicylic acid", "glycolic acid",
                       "peptides", "zinc oxide", "tranexamic acid"],
        "concern": ["dry patches", "hormonal acne", "uneven texture", "redness", "hyperpigmentation",
                    "dehydrated skin", "closed comedones", "melasma", "dark spots", "enlarged pores"],
        "skin_type": ["oily", "dry", "combination", "sensitive", "acne-prone", "mature"],
        "activity": ["double cleansing", "slugging", "skin cycling", "patch testing", "a retinol night",
                     "chemical exfoliation", "barrier repair", "a facial massage"],
        "templates": [
            (
                "My {time} routine right now: {product}, {product2} and a lot of patience. The "
                "{concern} is finally calming down"
            ),
            (
                "Week {num} of using {ingredient} and the difference is huge. Way less {concern} "
                "already"
            ),
            (
                "Reminder: SPF is the best anti-aging product you can buy. Reapply your {product} "
                "every two hours outside"
            ),
            "Testing a new {product} on my {skin_type} skin. First impressions after {num} days",
            "{activity} changed my skin. Here's how I do it without irritating my barrier",
            (
                "Don't layer {ingredient} and {ingredient2} on the same night if your skin is "
                "sensitive. Alternate them instead"
            ),
            "Empties of the month: {product}, {product2} and my holy grail {product3}",
            (
                "Barrier repair 101: cut back on actives, add {ingredient} and keep your routine "
                "boring for two weeks"
            ),
            "Ranking every {product} I tried this year from worst to best",
            (
                "How I treat {concern}: gentle cleanser, {ingredient}, moisturizer, sunscreen. "
                "That's it"
            ),
            "Reading the ingredient list of a viral {product} so you don't have to",
            "Retinol purge or breakout? How to tell the difference when you have {concern}",
            "Shelfie update: the {product} stays, the {product2} goes",
            "Dermatologist-approved tips for {activity} with {skin_type} skin",
        ],
        "hashtags": ["#skincare", "#skincareroutine", "#spf", "#retinol", "#skinbarrier", "#niacinamide",
                     "#acneprone", "#sensitiveskin", "#skincaretips", "#glowingskin", "#sunscreen",
                     "#skincarecommunity", "#hyperpigmentation", "#esthetician"],
        "keywords": ["skincare", "serum", "retinol", "SPF", "glowing skin", "acne", "moisturizer",
                     "skin care routine", "anti aging", "esthetician", "vitamin C", "sunscreen"],
        "sponsors": ["Lumen Derm", "Dewlab", "Barrier Botanics", "Clearday Skin"],
        "brand_words": ["Dew", "Lumiere", "Petal", "Aqua", "Velvet", "Bare"],
    },
    "trail running": {
        "handle_words": ["trail", "vert", "ultra", "dirt", "summit", "singletrack", "miles", "ridge"],
        "roles": ["Mountain ultrarunner", "Trail runner", "UTMB finisher", "Running coach",
                  "Skyrunner", "Weekend trail warrior", "Ultramarathoner"],
        "bio_phrases": ["chasing vert", "training for my first 100-miler",
                        "collecting summits one long run at a time",
                        "coaching runners from 10K to 100 miles", "happiest on technical singletrack",
                        "slow miles, big mountains"],
        "emoji": ["🏔️", "🏃", "⛰️", "🌲", "🥾"],
        "product": ["trail shoe", "hydration vest", "carbon running pole", "headlamp", "soft flask",
                    "rain shell", "GPS watch", "energy gel", "race vest", "electrolyte mix",
                    "trail gaiter"],
        "shoe": ["trail shoes", "rock-plate shoes", "max-cushion trail shoes", "mountain racing flats",
                 "waterproof trail shoes"],
        "gear": ["a rain shell", "a headlamp", "an emergency blanket", "a buff", "spare socks",
                 "a tiny first aid kit", "folding poles", "a GPS watch"],
        "fuel": ["energy gels", "caffeinated gels", "salted potatoes", "chews", "flat cola"],
        "activity": ["hill repeats", "a long run", "a tempo effort", "power hiking",
                     "downhill technique work", "a back-to-back weekend", "a night run",
                     "a recovery jog", "a fastpack", "a vertical kilometre"],
        "place": ["the Dolomites", "Chamonix", "the Pacific Crest Trail", "the Lake District",
                  "Boulder", "the Grand Canyon rim", "the Scottish Highlands", "Mount Tam", "the Alps",
                  "the Blue Mountains", "the Pyrenees", "Zion", "the Peak District", "Squamish"],
        "race": ["a 50K", "a 100-miler", "an ultramarathon", "a skyrace", "a 50-miler",
                 "a vertical K", "a mountain marathon"],
        "distance": ["12", "18", "25", "32", "42", "50"],
        "vert": ["600", "900", "1200", "1800", "2400"],
        "templates": [
            (
                "{distance} km in {place} today with {vert} m of vert. Legs are cooked but the "
                "views were worth every step"
            ),
            "Race recap: {race} in {place}. Went out too fast, walked the climbs, finished smiling",
            (
                "Shoe review: {num} weeks in these {shoe}. Grip on wet rock is excellent and the "
                "rock plate saves my feet on the descents"
            ),
            (
                "What's in my hydration vest for {race}: {gear}, {gear2}, two soft flasks and way "
                "too many gels"
            ),
            (
                "{activity} this morning. Power hiking is a skill, practice it before your next "
                "ultramarathon"
            ),
            "Elevation gain this week: {vert} m. Building the vert slowly before {race}",
            "Downhill running tip: short quick steps, eyes three metres ahead, trust your {shoe}",
            (
                "First time on the trails around {place}. Singletrack, switchbacks and zero phone "
                "signal"
            ),
            (
                "Fueling for ultras: 60 to 90 g of carbs per hour, real food on the long climbs "
                "and {fuel} for the last 20 km"
            ),
            (
                "Night run with a brand new headlamp in {place}. The trails feel completely "
                "different in the dark"
            ),
            (
                "Taper week before {race}. Short runs, lots of sleep and checking the mandatory "
                "kit list twice"
            ),
            (
                "DNF at {race}. Rolled my ankle at km {distance}. Proud of the start, learning "
                "from the finish"
            ),
            "Trail running is 40% running, 40% hiking and 20% eating snacks at aid stations",
            "Gear I actually use for mountain running: {gear}, {gear2} and {gear3}",
        ],
        "hashtags": ["#trailrunning", "#ultrarunning", "#trailrunner", "#ultramarathon", "#mountainrunning",
                     "#vert", "#skyrunning", "#runtheworld", "#trailshoes", "#singletrack",
                     "#runningcommunity", "#ultratraining", "#elevationgain", "#timeonfeet"],
        "keywords": ["trail running", "ultramarathon", "trail shoes", "running coach", "marathon runner",
                     "trail", "ultra runner", "running", "mountain running", "trail runner"],
        "sponsors": ["Summit Trail Co", "Peakline", "Vertfuel", "Scree Running"],
        "brand_words": ["Summit", "Switchback", "Alpine", "Talus", "Highline", "Cascade"],
    },
    "vegan cooking": {
        "handle_words": ["plant", "vegan", "greens", "tofu", "lentil", "kitchen", "plantbased", "veggie"],
        "roles": ["Vegan recipe developer", "Plant-based home cook", "Cookbook author",
                  "Vegan food blogger", "Plant-based nutrition nerd", "Former chef turned vegan"],
        "bio_phrases": ["easy plant-based dinners in 30 minutes", "making tofu taste amazing",
                        "budget vegan meal prep", "veganising my grandma's recipes",
                        "high-protein plant-based recipes", "sharing weeknight vegan recipes"],
        "emoji": ["🌱", "🥑", "🍲", "🥕", "🌿"],
        "dish": ["lentil bolognese", "chickpea curry", "crispy tofu bowl", "vegan mac and cheese",
                 "black bean tacos", "miso ramen", "mushroom stroganoff", "cashew alfredo",
                 "red lentil dal", "tempeh stir-fry", "jackfruit tacos", "vegan banana bread",
                 "peanut noodles", "roasted cauliflower steaks", "tofu scramble"],
        "ingredient": ["nutritional yeast", "smoked tofu", "tempeh", "chickpeas", "red lentils",
                       "cashews", "oat milk", "white miso", "jackfruit", "seitan", "coconut milk",
                       "tahini", "aquafaba", "black beans", "silken tofu"],
        "product": ["tofu press", "high-speed blender", "cast iron pan", "air fryer", "rice cooker",
                    "spice grinder", "food processor", "plant protein powder", "tempeh starter kit"],
        "templates": [
            "Weeknight {dish} ready in 25 minutes. Full recipe below, no fancy ingredients needed",
            "{ingredient} is the secret to the creamiest {dish}. Trust me on this",
            "Meal prep Sunday: {dish}, {dish2} and a big tray of roasted veg for the week",
            "High-protein vegan lunch: {dish} with extra {ingredient}, 32 g of protein per bowl",
            (
                "Press your tofu for 20 minutes, toss it in cornstarch and air fry it. Game "
                "changer for {dish}"
            ),
            "Veganised my grandma's {dish} and the family couldn't tell the difference",
            (
                "Cheap plant-based groceries for under $40: {ingredient}, {ingredient2}, oats, "
                "rice and frozen veg"
            ),
            "My {product} gets used every single day. Today it's {dish}",
            "One-pot {dish}. Less washing up, more eating",
            "Three ways to use {ingredient}: {dish}, {dish2} and a quick snack",
            "Swapping dairy? Use {ingredient} for richness and miso for that savoury depth",
            "Testing a viral recipe: {dish} with {ingredient}. Worth the hype?",
            "Batch-cooked {dish} for the freezer. Future me says thank you",
            "Plant-based protein sources ranked: {ingredient}, {ingredient2} and {ingredient3}",
        ],
        "hashtags": ["#vegan", "#veganrecipes", "#plantbased", "#veganfood", "#whatveganseat",
                     "#plantbasedrecipes", "#veganmealprep", "#tofu", "#veganprotein", "#easyvegan",
                     "#vegancooking", "#meatlessmonday", "#plantpowered"],
        "keywords": ["vegan", "vegan recipes", "plant based", "tofu", "vegan food", "meal prep",
                     "healthy recipes", "plant based diet", "vegan cooking", "dairy free"],
        "sponsors": ["Sprout Pantry", "Green Larder", "PlantPress", "Oatfield"],
        "brand_words": ["Sprout", "Kale", "Harvest", "Pulse", "Root", "Lentil"],
    },
    "budget travel": {
        "handle_words": ["wander", "backpack", "nomad", "passport", "roam", "hostel", "journeys", "atlas"],
        "roles": ["Budget traveller", "Backpacker", "Digital nomad", "Travel hacker", "Slow traveller",
                  "Solo female traveller", "Points and miles nerd"],
        "bio_phrases": ["seeing the world on $50 a day", "47 countries on a budget",
                        "hostel reviews and cheap flight hacks", "carry-on only since 2019",
                        "helping you travel more for less", "slow travel and local food"],
        "emoji": ["✈️", "🎒", "🌍", "🗺️", "🚆"],
        "place": ["Lisbon", "Hanoi", "Mexico City", "Budapest", "Tbilisi", "Oaxaca", "Krakow",
                  "Chiang Mai", "Porto", "Cartagena", "Istanbul", "Sarajevo", "Medellín",
                  "Kuala Lumpur", "Marrakech", "Buenos Aires"],
        "product": ["carry-on backpack", "packing cubes", "travel adapter", "rail pass",
                    "travel insurance", "travel eSIM", "money belt", "microfibre towel",
                    "hostel padlock", "neck pillow", "water filter bottle"],
        "activity": ["a free walking tour", "an overnight bus", "a night train", "a street food crawl",
                     "a hostel stay", "a long layover", "house sitting", "a budget flight",
                     "a homestay"],
        "transport": ["an overnight bus", "a night train", "a budget flight", "a shared minivan",
                      "a slow ferry"],
        "price": ["12", "18", "25", "35", "40", "60"],
        "templates": [
            "{num} days in {place} for under ${price} a day including hostels, food and transport",
            (
                "How I found a ${price} flight to {place}: flexible dates, price alerts and a "
                "budget airline"
            ),
            "Carry-on only for {num} weeks. Everything fits thanks to my {product} and {product2}",
            "{activity} in {place} was the highlight of the trip and cost almost nothing",
            (
                "Cheapest eats in {place}: street food stalls, local markets and set lunch menus "
                "for ${price}"
            ),
            "Took {transport} from {place} to {place2} to save a night of accommodation",
            (
                "Hostel review: private room in {place} for ${price}, free breakfast and a great "
                "rooftop"
            ),
            "Travel hack: sort out your {product} before you leave, not at the airport",
            (
                "Budget breakdown for {place}: accommodation, food, transport and activities. "
                "Total in the comments"
            ),
            "Overrated vs underrated: {place} vs {place2}. Which would you pick?",
            (
                "My packing list for {num} weeks in Southeast Asia: {product}, {product2} and not "
                "much else"
            ),
            "Slow travel means staying a month in {place}, cooking at home and living like a local",
            "Free things to do in {place} that most tourists miss",
            "Nearly got scammed at the airport in {place}. Here's how to avoid the taxi trap",
        ],
        "hashtags": ["#budgettravel", "#backpacking", "#travelhacks", "#solotravel", "#digitalnomad",
                     "#cheaptravel", "#hostellife", "#slowtravel", "#travelonabudget", "#carryononly",
                     "#wanderlust", "#backpackerlife", "#traveltips"],
        "keywords": ["budget travel", "backpacking", "travel hacks", "cheap flights", "solo travel",
                     "digital nomad", "travel blogger", "wanderlust", "hostels", "travel tips"],
        "sponsors": ["Wayfarer Packs", "Roamly", "TrekLite", "Farefinder"],
        "brand_words": ["Wayfinder", "Compass", "Voyage", "Transit", "Horizon", "Atlas"],
    },
    "gaming": {
        "handle_words": ["gg", "pixel", "respawn", "gamer", "loot", "frag", "quest", "noscope"],
        "roles": ["Variety streamer", "Indie game reviewer", "Competitive FPS player",
                  "Retro gaming collector", "Speedrunner", "Cozy gamer", "Esports caster"],
        "bio_phrases": ["streaming Tuesday to Saturday", "reviewing indie games you missed",
                        "chasing world records", "cozy games and cozier vibes",
                        "building the ultimate retro collection", "tips for ranked grinders"],
        "emoji": ["🎮", "🕹️", "👾", "🏆", "🔥"],
        "product": ["mechanical keyboard", "gaming mouse", "wireless headset", "capture card",
                    "pro controller", "gaming chair", "240 Hz monitor", "handheld console",
                    "streaming mic", "desk mat"],
        "genre": ["roguelike", "soulslike", "cozy farming sim", "metroidvania", "battle royale",
                  "open-world RPG", "tactical shooter", "survival crafting game", "fighting game",
                  "JRPG"],
        "activity": ["a speedrun attempt", "the ranked grind", "a 12-hour stream", "a boss fight",
                     "a co-op session", "a no-hit run", "a community tournament", "a LAN party"],
        "thing": ["the final boss", "the secret ending", "a hidden level", "the new season",
                  "the latest patch", "the DLC", "the ranked reset"],
        "templates": [
            "Finally beat {thing} after {num} hours. This {genre} is brutal but fair",
            "Indie gem alert: a {genre} made by two developers that deserves way more attention",
            "Stream tonight at 8pm: {activity} and viewer games. Come hang out",
            "Setup upgrade: new {product} and {product2}. The input lag is gone",
            "Hot take: {genre} games are better when they respect your time",
            "Ranked update: hit Diamond this weekend. Next up: {activity}",
            "Top {num} {genre} games of the year so far, ranked",
            "My {product} after {num} months of daily use. Honest review",
            (
                "Patch notes breakdown: what changed in {thing} and why it matters for competitive "
                "players"
            ),
            "{activity} went wrong in the best way. Clip in the comments",
            "Cozy gaming night: blanket, tea and a {genre}",
            "Retro haul: found a boxed copy of a classic at a flea market for $5",
            "Speedrun PB! {num} seconds faster thanks to a new skip",
            "Is the {product} worth it for streaming? Sound test and settings",
        ],
        "hashtags": ["#gaming", "#gamer", "#twitchstreamer", "#indiegames", "#videogames",
                     "#gamingsetup", "#speedrun", "#cozygaming", "#retrogaming", "#pcgaming",
                     "#gamingcommunity", "#esports", "#streamer"],
        "keywords": ["gaming", "gamer", "streamer", "twitch", "video games", "esports", "gaming setup",
                     "pc gaming", "fps", "console gaming"],
        "sponsors": ["Apex Peripherals", "PixelForge", "RespawnGear", "Nebula Audio"],
        "brand_words": ["Hyperion", "Quantum", "Vector", "Nova", "Blitz", "Arcade"],
    },
    "parenting": {
        "handle_words": ["mama", "papa", "littles", "toddler", "family", "parenting", "momlife", "dadlife"],
        "roles": ["Mum of three", "Toddler dad", "Pediatric nurse and mum", "Gentle parenting coach",
                  "Stay-at-home dad", "Twin mama", "Montessori-inspired parent"],
        "bio_phrases": ["real talk about toddler tantrums", "surviving the newborn days",
                        "gentle parenting without the guilt", "easy activities for little ones",
                        "raising kids in a small apartment", "sharing what actually works with toddlers"],
        "emoji": ["👶", "🍼", "🧸", "💛", "🌈"],
        "product": ["baby carrier", "stroller", "high chair", "white noise machine", "sleep sack",
                    "toddler tower", "diaper bag", "bottle warmer", "baby monitor", "potty seat",
                    "play mat", "sippy cup", "car seat"],
        "activity": ["the bedtime routine", "potty training", "baby-led weaning", "sleep training",
                     "a screen-free afternoon", "sensory play", "school drop-off",
                     "a toddler tantrum", "the nap transition"],
        "age": ["6-month-old", "9-month-old", "toddler", "2-year-old", "3-year-old", "4-year-old"],
        "templates": [
            "Update on {activity}: night {num} and we're slowly getting there",
            (
                "What's in my diaper bag for a {age}: {product}, snacks, wipes and a spare outfit "
                "for me"
            ),
            "Gentle parenting tip: name the feeling before you fix the problem",
            "The {product} that saved our sanity during the newborn weeks",
            "Our bedtime routine with a {age}: simple, consistent and the same every night",
            "Rainy day sensory play with rice, cups and a muffin tin. Cost: nothing",
            "Things nobody tells you about {activity}",
            "Toddler meal ideas they actually eat: pasta, pancakes, fruit and more pasta",
            "Registry must-haves vs things we never used: {product} yes, {product2} no",
            "Handled {activity} calmly today. Small wins count",
            "Parent guilt is real. Reminder that a fed, loved kid is a thriving kid",
            "Baby-led weaning with our {age}: first foods and how we prepped them",
            "Dad tip: the {product} buys you the best {num} minutes of quiet all day",
            "Our morning routine with a {age} and a newborn, in real time",
        ],
        "hashtags": ["#parenting", "#momlife", "#dadlife", "#toddlerlife", "#gentleparenting",
                     "#newbornlife", "#parentingtips", "#toddleractivities", "#motherhood",
                     "#fatherhood", "#babyledweaning", "#montessori", "#raisingkids"],
        "keywords": ["parenting", "mom life", "toddler", "baby", "motherhood", "parenting tips",
                     "newborn", "family", "gentle parenting", "mum blogger"],
        "sponsors": ["Little Nest", "Cubby Baby", "Snugglebug", "Kinder Co"],
        "brand_words": ["Bumble", "Acorn", "Cuddle", "Pebble", "Sprig", "Nestling"],
    },
    "home fitness": {
        "handle_words": ["fit", "lift", "sweat", "strong", "gains", "homegym", "reps", "kettlebell"],
        "roles": ["Certified personal trainer", "Home gym enthusiast", "Kettlebell coach",
                  "Pilates instructor", "Strength coach", "Busy mum getting strong",
                  "Calisthenics athlete"],
        "bio_phrases": ["20-minute workouts you can do at home",
                        "building strength without a gym membership", "garage gym builds on a budget",
                        "helping busy people train consistently",
                        "progressive overload in the living room",
                        "no-equipment workouts and honest advice"],
        "emoji": ["💪", "🏋️", "🔥", "🧘", "⏱️"],
        "product": ["set of adjustable dumbbells", "kettlebell", "resistance band set", "pull-up bar",
                    "yoga mat", "foam roller", "jump rope", "squat rack", "ab wheel", "weight bench",
                    "rowing machine", "walking pad"],
        "equipment": ["a kettlebell", "resistance bands", "a pair of dumbbells", "a yoga mat",
                      "a pull-up bar", "a jump rope", "a sturdy chair", "a weight bench"],
        "workout": ["20-minute HIIT circuit", "EMOM", "full-body strength session", "mobility flow",
                    "Tabata finisher", "leg day", "core burner", "kettlebell complex",
                    "Pilates session"],
        "exercise": ["goblet squats", "push-ups", "Romanian deadlifts", "kettlebell swings", "lunges",
                     "burpees", "plank holds", "glute bridges", "pull-ups", "mountain climbers"],
        "templates": [
            "A {workout} you can do in your living room with just {equipment}",
            (
                "{num} rounds: 10 {exercise}, 15 {exercise2}, 20 {exercise3}. Rest 60 seconds "
                "between rounds"
            ),
            (
                "Garage gym update: added a {product}. Total spent so far is less than a year of "
                "gym membership"
            ),
            "Form check on {exercise}: brace your core, slow on the way down, full range of motion",
            "Progressive overload at home: more reps, slower tempo or a heavier kettlebell",
            "Morning {workout} done before the kids woke up",
            "No equipment? {exercise} and {exercise2} will still build serious strength",
            "Day {num} of my home workout challenge. Consistency beats intensity",
            "Is a {product} worth it for a small apartment? My honest review after {num} months",
            "Mobility matters: a {workout} to loosen your hips after sitting all day",
            "Beginner-friendly {workout}: scale the {exercise} to your level",
            "Sweaty {workout} with the {product}. Heart rate hit 170",
            "Three mistakes people make with {exercise}",
            "Deload week: lighter weights, more stretching and a long walk",
        ],
        "hashtags": ["#homeworkout", "#homegym", "#fitness", "#strengthtraining", "#kettlebell",
                     "#hiit", "#workoutathome", "#garagegym", "#fitover30", "#mobility",
                     "#progressiveoverload", "#pilates", "#fitfam"],
        "keywords": ["fitness", "workout", "home workout", "personal trainer", "gym", "fitness coach",
                     "weight loss", "strength training", "HIIT", "fit"],
        "sponsors": ["IronNest", "FlexBand", "Kettle Club", "HomeRep"],
        "brand_words": ["Iron", "Titan", "Core", "Pulse", "Rep", "Forge"],
    },
    "personal finance": {
        "handle_words": ["money", "budget", "invest", "frugal", "wealth", "fire", "cents", "savings"],
        "roles": ["Personal finance educator", "Debt-free since 2022", "Index fund investor",
                  "Budgeting coach", "FIRE chaser", "Chartered accountant", "Frugal living blogger"],
        "bio_phrases": ["paid off $60k of debt", "making money boring again",
                        "simple investing for beginners", "budgeting tips that actually stick",
                        "on the road to financial independence", "teaching the money basics school skipped"],
        "emoji": ["💰", "📈", "💸", "🏦", "🧾"],
        "product": ["budgeting app", "high-yield savings account", "index fund", "Roth IRA",
                    "cashback credit card", "robo-advisor", "cash envelope wallet",
                    "budget spreadsheet", "pension account"],
        "topic": ["the 50/30/20 budget", "dollar-cost averaging", "compound interest", "the debt snowball",
                  "the debt avalanche", "sinking funds", "a no-spend month", "an emergency fund",
                  "low expense ratios", "tax-advantaged accounts"],
        "amount": ["500", "1,000", "2,500", "10,000", "25,000"],
        "templates": [
            "How {topic} helped me save ${amount} this year",
            (
                "Month {num} of a no-spend challenge. Saved ${amount} by cooking at home and "
                "cancelling subscriptions"
            ),
            (
                "Beginner investing: start with a low-cost index fund, automate it and ignore the "
                "noise"
            ),
            "Debt update: ${amount} left to go. Using {topic} to stay motivated",
            "{topic} explained in 60 seconds",
            "My budget breakdown on a median salary: rent, food, savings and fun money",
            "Stop paying hidden fees: check the expense ratio of every fund you own",
            "Why I keep six months of expenses in a high-yield savings account",
            "Net worth update: up ${amount} thanks to boring, consistent investing",
            "Five money habits that changed my life, starting with {topic}",
            "Is a {product} worth it? Pros, cons and who should avoid it",
            "Side hustle income this month: ${amount}. Every dollar went to the emergency fund",
            (
                "Financial independence isn't about being rich, it's about choices. {topic} is "
                "step one"
            ),
            "Payday routine: pay yourself first, then bills, then {topic}",
        ],
        "hashtags": ["#personalfinance", "#budgeting", "#investing", "#debtfree", "#moneytips",
                     "#financialfreedom", "#fire", "#indexfunds", "#savingmoney", "#frugalliving",
                     "#financetok", "#emergencyfund", "#moneymindset"],
        "keywords": ["personal finance", "investing", "budgeting", "money tips", "passive income",
                     "financial freedom", "stocks", "debt free", "wealth", "side hustle"],
        "sponsors": ["Stackwise", "Penny Vault", "Ledgerly", "Brightsave"],
        "brand_words": ["Sterling", "Ledger", "Penny", "Keystone", "Harbor", "Vault"],
    },
    "gardening": {
        "handle_words": ["garden", "grow", "soil", "bloom", "veggiepatch", "allotment", "seedling",
                         "compost"],
        "roles": ["Allotment gardener", "Balcony gardener", "Organic grower", "Master gardener",
                  "Houseplant collector", "Seed saver", "Permaculture enthusiast"],
        "bio_phrases": ["growing food in a tiny backyard", "running a no-dig organic vegetable garden",
                        "turning a balcony into a jungle", "sharing seed starting tips and garden fails",
                        "composting everything", "planting natives for pollinators"],
        "emoji": ["🌱", "🌻", "🍅", "🪴", "🐝"],
        "plant": ["heirloom tomatoes", "courgettes", "runner beans", "garlic", "dahlias", "strawberries",
                  "kale", "chillies", "sweet peas", "potatoes", "lavender", "basil", "squash"],
        "product": ["raised bed", "compost bin", "seed trays", "grow lights", "soaker hose",
                    "pruning shears", "peat-free potting mix", "worm farm", "greenhouse",
                    "garden kneeler", "rain barrel"],
        "bed": ["raised bed", "allotment", "greenhouse", "back garden", "balcony pots", "polytunnel"],
        "tool": ["pruning shears", "hori hori knife", "garden kneeler", "soaker hose", "wheelbarrow",
                 "hand trowel", "rain barrel"],
        "starter": ["seed trays", "grow lights", "a heat mat", "root trainers", "a propagator",
                    "peat-free compost"],
        "task": ["direct sowing", "pricking out seedlings", "mulching", "pruning", "hardening off",
                 "succession sowing", "deadheading", "building a compost heap", "dividing perennials",
                 "saving seeds"],
        "templates": [
            "First harvest of {plant} from the {bed} this year. Worth every hour of weeding",
            "{task} today. The garden is finally coming together",
            "No-dig update: {num} months in and the soil is full of worms",
            "Grew {plant} from seed for the first time. Here's what I learned",
            "Balcony garden tour: {plant}, {plant2} and way too many herbs",
            (
                "Pest problem on my {plant}. Trying companion planting with marigolds before "
                "anything else"
            ),
            "Garden fail: I planted {plant} too early and lost them to a late frost",
            "Tool of the season: my {tool}. Saves my back every single day",
            "How I'm feeding the soil for next year: compost, leaf mould and {task}",
            "The pollinator corner is buzzing. Bees love the {plant}",
            "Seed starting setup: {starter} and {starter2} on a windowsill",
            "Harvest basket today: {plant}, {plant2} and {plant3}",
            "Water deeply, less often. Your {plant} will thank you",
            "Allotment jobs this week: {task}, weeding and netting the {plant}",
        ],
        "hashtags": ["#gardening", "#growyourownfood", "#allotment", "#nodig", "#organicgardening",
                     "#vegetablegarden", "#gardenlife", "#balconygarden", "#seedstarting",
                     "#composting", "#pollinatorgarden", "#homegrown", "#kitchengarden"],
        "keywords": ["gardening", "garden", "plants", "grow your own", "vegetable garden", "organic",
                     "plant lover", "houseplants", "gardener", "flowers"],
        "sponsors": ["Rootwise", "Seed & Spade", "GreenThumb Supply", "Loam Co"],
        "brand_words": ["Bramble", "Meadow", "Fernleaf", "Willow", "Thistle", "Orchard"],
    },
    "photography": {
        "handle_words": ["lens", "shutter", "frames", "focus", "aperture", "film", "capture", "exposure"],
        "roles": ["Landscape photographer", "Street photographer", "Film photography nerd",
                  "Wedding photographer", "Astrophotographer", "Portrait photographer",
                  "Photo educator"],
        "bio_phrases": ["chasing golden hour", "shooting 35mm film", "sharing editing tips and presets",
                        "telling stories with light", "available for commissions worldwide",
                        "teaching manual mode one post at a time"],
        "emoji": ["📷", "🎞️", "🌅", "🌌", "📸"],
        "product": ["35mm prime", "mirrorless camera", "travel tripod", "neutral density filter",
                    "70-200mm lens", "film camera", "camera bag", "remote shutter", "gimbal",
                    "calibrated monitor", "polarising filter"],
        "camera": ["mirrorless camera", "full-frame body", "35mm prime", "70-200mm lens", "film camera",
                   "vintage rangefinder", "50mm lens", "weather-sealed zoom"],
        "lens": ["50mm f/1.8", "35mm prime", "24-70mm zoom", "85mm portrait lens", "28mm pancake lens"],
        "technique": ["long exposure", "golden hour portrait", "bracketed sunrise", "focus-stacked landscape",
                      "street candid", "Milky Way shot", "backlit portrait", "leading lines composition",
                      "blue hour cityscape"],
        "place": ["Iceland", "the Scottish Highlands", "Tokyo", "the Dolomites", "New York", "Lofoten",
                  "Patagonia", "Cornwall", "Yosemite", "Lisbon", "Banff"],
        "setting": ["f/1.8", "f/8", "ISO 100", "ISO 3200", "1/250 s", "30 s", "1/1000 s"],
        "templates": [
            "{technique} in {place}. Shot at {setting} on a {camera}",
            "Behind the scenes: how I shot this {technique} with only a {camera}",
            "Gear I actually use: {product}, {product2} and a lot of patience",
            "Lightroom edit breakdown: before and after from {place}",
            (
                "Three composition tips: leading lines, foreground interest and simplicity. "
                "Example: this {technique}"
            ),
            "Woke up at 4am for this {technique}. Worth it",
            "Film is back: a roll through my old rangefinder in {place}",
            "Beginner tip: learn exposure and manual mode before buying a new {product}",
            "Camera bag check for {place}: {product}, {product2} and spare batteries",
            "Milky Way season: shot at {setting} with a 20-second exposure and a sturdy tripod",
            "Sharp photos every time: use a tripod and a two-second timer. My {lens} does the rest",
            "Street photography in {place}. Wait for the light, then wait for the people",
            "Same spot, three seasons: {place} through the year",
            "My favourite lens of all time is a boring {lens}. Here's why",
        ],
        "hashtags": ["#photography", "#landscapephotography", "#streetphotography", "#filmphotography",
                     "#goldenhour", "#astrophotography", "#longexposure", "#photooftheday",
                     "#mirrorless", "#35mm", "#lightroom", "#travelphotography", "#portraitphotography"],
        "keywords": ["photography", "photographer", "photo", "camera", "landscape photography",
                     "portrait", "canon", "photooftheday", "travel photography", "lightroom presets"],
        "sponsors": ["Northlight Optics", "Aperture Works", "Frame & Field", "Kestrel Bags"],
        "brand_words": ["Prism", "Halide", "Lumen", "Shutterline", "Focal", "Obscura"],
    },
    "specialty coffee": {
        "handle_words": ["brew", "espresso", "pourover", "beans", "crema", "roast", "barista", "latteart"],
        "roles": ["Home barista", "Coffee roaster", "Latte art learner", "Q grader",
                  "Specialty coffee nerd", "Café owner", "Coffee educator"],
        "bio_phrases": ["dialing in espresso one shot at a time",
                        "sharing pour-over recipes and bean reviews",
                        "exploring single-origin coffee", "practising latte art every morning",
                        "roasting small batches at home", "brewing better coffee at home"],
        "emoji": ["☕", "🫘", "🥛", "✨", "🔥"],
        "product": ["burr grinder", "gooseneck kettle", "V60 dripper", "espresso machine", "AeroPress",
                    "French press", "milk pitcher", "coffee scale", "calibrated tamper", "moka pot",
                    "Chemex", "cold brew jar"],
        "dripper": ["V60", "Kalita Wave", "Chemex", "Origami dripper", "flat-bottom dripper"],
        "grinder": ["burr grinder", "hand grinder", "flat burr grinder", "single-dose grinder"],
        "origin": ["Ethiopian Yirgacheffe", "Kenyan AA", "Colombian Huila", "Guatemalan Antigua",
                   "Panama Geisha", "Sumatra Mandheling", "Rwandan bourbon", "Costa Rican honey process",
                   "Brazilian natural"],
        "method": ["pour-over", "espresso", "cold brew", "AeroPress", "flat white", "cortado",
                   "iced latte", "batch filter"],
        "note": ["blueberry", "jasmine", "milk chocolate", "stone fruit", "caramel", "citrus",
                 "hazelnut", "bergamot"],
        "city": ["Melbourne", "Oslo", "Portland", "Seoul", "London", "Copenhagen", "Tokyo", "Berlin"],
        "templates": [
            (
                "Dialing in a new bag of {origin}: 18 g in, 36 g out, 28 seconds. Tasting {note} "
                "and {note2}"
            ),
            "Pour-over recipe: 15 g coffee, 250 g water at 94°C, slow spiral pour on a {dripper}",
            "Latte art progress, day {num}. The tulip is almost a tulip",
            "Upgraded to a {grinder}. Grind consistency makes a huge difference in the cup",
            "{origin} as {method} this morning. Bright, juicy, {note} all the way",
            "Home espresso setup tour: {product}, {product2} and a very patient partner",
            "Why your {method} tastes bitter: grind too fine, water too hot or stale beans",
            "Cupping three roasts side by side: {origin}, {origin2} and {origin3}",
            "Cold brew season: coarse grind, 1:8 ratio, 16 hours in the fridge",
            "Tried a washed and a natural {origin}. The natural tastes like {note}",
            "Café crawl in {city}: best {method} goes to a tiny roastery by the station",
            (
                "Weigh your coffee and water. A coffee scale is the cheapest upgrade you'll ever "
                "make, cheaper than any {product}"
            ),
            "Milk steaming tip: stretch early, then roll. Silky microfoam for a {method}",
            "Roast date matters. Rest light roasts for {num} days before brewing",
        ],
        "hashtags": ["#specialtycoffee", "#coffee", "#pourover", "#espresso", "#homebarista",
                     "#latteart", "#coffeegeek", "#v60", "#singleorigin", "#aeropress",
                     "#coffeelover", "#thirdwavecoffee", "#coffeetime"],
        "keywords": ["coffee", "specialty coffee", "barista", "espresso", "latte art", "coffee lover",
                     "pour over", "cafe", "coffee beans", "coffee addict"],
        "sponsors": ["Roast Republic", "Gooseneck Co", "Crema Lab", "Bean Theory"],
        "brand_words": ["Ember", "Origin", "Bloom", "Crema", "Kettle", "Ristretto"],
    },
    "dog care": {
        "handle_words": ["pup", "doggo", "woof", "paws", "bark", "goodboy", "tails", "k9"],
        "roles": ["Certified dog trainer", "Rescue dog mum", "Golden retriever dad", "Dog groomer",
                  "Canine nutrition nerd", "Foster carer for senior dogs", "Dog sport handler"],
        "bio_phrases": ["sharing positive reinforcement training tips", "living with a reactive rescue",
                        "on adventures with two border collies", "testing fresh food for dogs",
                        "grooming tips for doodles", "adopt, don't shop"],
        "emoji": ["🐶", "🐾", "🦴", "🐕", "❤️"],
        "product": ["no-pull harness", "long line", "lick mat", "puzzle feeder", "slow feeder bowl",
                    "orthopedic dog bed", "deshedding brush", "dog car seat", "GPS collar", "clicker",
                    "dental chews", "dog raincoat", "treat pouch"],
        "toy": ["lick mat", "KONG toy", "snuffle mat", "puzzle feeder"],
        "walkgear": ["no-pull harness", "long line", "treat pouch", "GPS collar", "reflective leash",
                     "dog raincoat"],
        "breed": ["golden retriever", "border collie", "French bulldog", "rescue mutt", "dachshund",
                  "labrador", "cockapoo", "German shepherd", "greyhound", "Australian shepherd"],
        "activity": ["loose-leash walking", "recall training", "crate training", "sniffari walks",
                     "nail trims", "puppy socialisation", "agility practice", "decompression walks",
                     "grooming day"],
        "templates": [
            (
                "{activity} progress with our {breed}: {num} weeks of short sessions and lots of "
                "treats"
            ),
            (
                "Enrichment idea: a frozen {toy} with yoghurt and blueberries keeps him busy for "
                "20 minutes"
            ),
            "Reactive dog tip: increase distance, reward calm and skip the busy park",
            "Gear review: the {walkgear} we use on every walk",
            "Gotcha day! {num} years since we adopted our {breed}",
            "{activity} at home. Patience, timing and a {toy} for afterwards",
            "Grooming a {breed} at home: brush, bath, blow dry and a deshedding brush",
            "Senior dog care: joint supplements, an orthopedic bed and shorter, slower walks",
            "Puppy checklist: crate, {product}, {product2} and a lot of paper towels",
            "Off-leash beach day with the {breed}. Pure joy",
            "What I feed my {breed}: fresh food topper, kibble and a dental chew",
            "Mental stimulation beats a tired dog: {activity} for ten minutes a day",
            "Rainy walk essentials: a {walkgear} and a towel by the door",
            (
                "Training myth: you can't teach an old dog new tricks. Our {num}-year-old {breed} "
                "says otherwise"
            ),
        ],
        "hashtags": ["#dogsofinstagram", "#dogtraining", "#rescuedog", "#dogcare", "#puppytraining",
                     "#dogmom", "#dogenrichment", "#positivereinforcement", "#reactivedog",
                     "#doglife", "#seniordog", "#doggrooming", "#adoptdontshop"],
        "keywords": ["dog", "dogs", "puppy", "dog lover", "dog training", "dogs of instagram",
                     "dog mom", "pets", "rescue dog", "dog trainer"],
        "sponsors": ["Pawsome Pantry", "Trailhound Gear", "Good Boy Chews", "Barkly"],
        "brand_words": ["Wag", "Fetch", "Biscuit", "Howl", "Scout", "Ruff"],
    },
    "sustainable fashion": {
        "handle_words": ["thrift", "slowfashion", "vintage", "wardrobe", "mended", "secondhand", "capsule",
                         "ethical"],
        "roles": ["Slow fashion advocate", "Thrift flipper", "Capsule wardrobe stylist",
                  "Visible mending enthusiast", "Ethical fashion writer", "Vintage collector", "Sewist"],
        "bio_phrases": ["buying less and choosing well", "styling thrifted outfits under $30",
                        "mending instead of replacing", "30 wears or it doesn't come home",
                        "secondhand first", "making my own clothes"],
        "emoji": ["🧵", "♻️", "👗", "🌿", "🪡"],
        "garment": ["linen shirt", "organic cotton tee", "vintage denim jacket", "merino sweater",
                    "wool coat", "pair of wide-leg trousers", "slip dress", "hemp tote", "deadstock skirt",
                    "recycled-nylon raincoat", "pair of leather boots"],
        "material": ["organic cotton", "linen", "Tencel", "merino wool", "hemp", "recycled polyester",
                     "deadstock fabric", "GOTS-certified cotton"],
        "activity": ["a clothing swap", "visible mending", "a closet clean-out", "a thrift haul",
                     "capsule wardrobe planning", "upcycling", "darning socks"],
        "season": ["spring", "summer", "autumn", "winter", "travel"],
        "product": ["linen shirt", "organic cotton tee", "merino sweater", "wool coat", "mending kit",
                    "hemp tote", "recycled-nylon raincoat", "capsule wardrobe basics"],
        "templates": [
            "Thrift haul: a {garment} for $8 and a {garment2} that still had the tags on",
            "{num} ways to style one {garment}. Capsule wardrobes are not boring",
            (
                "Visible mending on my favourite {garment}. Sashiko stitches, two evenings, zero "
                "regrets"
            ),
            "Why I choose {material}: breathable, durable and better with every wash",
            "Cost per wear on my {garment}: worn {num} times this year",
            "Weekend plans: {activity}, a long walk and zero new purchases",
            "Reading the label: {material} vs fast-fashion blends",
            "My {season} capsule: a {garment}, a {garment2}, a {garment3} and two pairs of shoes",
            "Brands that publish their supply chain get my money. Everyone else gets my questions",
            "Gave an old {garment} a second life with a bit of upcycling",
            "How to spot quality secondhand: seams, fabric weight and {material} content",
            "Outfit repeat number {num}. Same {garment}, new styling",
            "Fast fashion detox: six months without buying new clothes",
            "Care guide for {material}: cold wash, air dry and mend early",
        ],
        "hashtags": ["#slowfashion", "#sustainablefashion", "#thrifted", "#secondhandfirst",
                     "#visiblemending", "#capsulewardrobe", "#ethicalfashion", "#whomademyclothes",
                     "#thrifthaul", "#vintagestyle", "#outfitrepeat", "#lovedclotheslast",
                     "#mendingmatters"],
        "keywords": ["fashion", "style", "ootd", "sustainable fashion", "thrift", "vintage",
                     "outfit", "fashion blogger", "slow fashion", "wardrobe"],
        "sponsors": ["Threadbare Studio", "Loop Linen", "Kind Cloth", "Second Stitch"],
        "brand_words": ["Flax", "Thread", "Hemline", "Loom", "Selvedge", "Bobbin"],
    },
    "road cycling": {
        "handle_words": ["cycling", "velo", "pedal", "watts", "cadence", "peloton", "climbs", "chainring"],
        "roles": ["Amateur road racer", "Cycling coach", "Gran fondo rider", "Bike fitter",
                  "Cat 2 racer", "Century ride collector", "Bike commuter"],
        "bio_phrases": ["chasing KOMs and coffee stops", "training with power since 2018",
                        "climbing every col in the Alps", "helping riders find more watts",
                        "sharing bike maintenance tips", "riding 10,000 km a year"],
        "emoji": ["🚴", "🚲", "⛰️", "☕", "💨"],
        "product": ["carbon wheelset", "power meter", "bike computer", "aero helmet", "bib shorts",
                    "clipless pedals", "smart trainer", "tubeless tyres", "cycling shoes",
                    "saddle bag", "packable rain jacket", "bike light"],
        "part": ["carbon wheelset", "power meter", "ceramic bottom bracket", "aero handlebar",
                 "12-speed chain", "set of tubeless tyres", "saddle"],
        "place": ["Mont Ventoux", "Alpe d'Huez", "the Stelvio", "Mallorca", "Girona",
                  "the Flanders cobbles", "the Peak District", "Tenerife", "the Col du Tourmalet",
                  "Box Hill"],
        "workout": ["sweet spot intervals", "a VO2 max session", "a zone 2 endurance ride",
                    "a fast group ride", "hill climb repeats", "a recovery spin", "a century ride",
                    "a criterium"],
        "distance": ["60", "90", "120", "160", "200"],
        "watts": ["220", "250", "280", "310", "350"],
        "templates": [
            "{distance} km with {num} friends and one very long café stop",
            "Climbed {place} today. {watts} watts average and legs full of lactic acid",
            "{workout} on the smart trainer. Boring, but the FTP test next week will tell",
            "New {part} installed. Rolling resistance is down, smile is up",
            "Training block update: {workout} twice a week and a long ride at the weekend",
            "Bike maintenance Monday: clean the chain, check the {part}, pump the tyres",
            "Gran fondo recap: {distance} km and 2,400 m of climbing around {place}",
            (
                "Zone 2 is boring until you see your endurance improve. {num} hours on the bike "
                "this week"
            ),
            "Is a {part} worth it for an amateur? Honest thoughts after {num} months",
            "Windy day, echelons everywhere. {workout} turned into a race",
            "Bike fit changed everything: saddle height, cleat position and a new {part}",
            "Bucket list climb ticked: {place}",
            (
                "Fuel for long rides: rice cakes, gels and two bottles of electrolytes. {distance} "
                "km done"
            ),
            "Crit racing tips: hold your line, stay near the front and trust your bike handling",
        ],
        "hashtags": ["#cycling", "#roadcycling", "#roadbike", "#cyclinglife", "#bikelife", "#strava",
                     "#granfondo", "#ftp", "#zone2", "#outsideisfree", "#cyclingphotos",
                     "#cyclingtraining", "#climbing"],
        "keywords": ["cycling", "road bike", "cyclist", "bike", "strava", "cycling life",
                     "triathlon", "bike ride", "road cycling", "peloton"],
        "sponsors": ["Velocita", "Cadence Cycling Co", "Watt Lab", "Col Climber"],
        "brand_words": ["Domestique", "Echelon", "Sprint", "Cobble", "Derailleur", "Gradient"],
    },
    "book reviews": {
        "handle_words": ["reads", "books", "pages", "bookworm", "shelf", "chapter", "novel", "bookish"],
        "roles": ["Book reviewer", "Bookseller", "Fantasy reader", "Literary fiction lover",
                  "Romance reader", "Librarian", "Audiobook addict"],
        "bio_phrases": ["reading 100 books a year", "writing honest reviews with no spoilers",
                        "reading fantasy, thrillers and the occasional classic",
                        "finding your next favourite book", "annotating everything",
                        "hosting a monthly book club"],
        "emoji": ["📚", "📖", "☕", "🔖", "✨"],
        "genre": ["fantasy", "literary fiction", "thriller", "romance", "historical fiction",
                  "science fiction", "memoir", "horror", "cozy mystery", "nonfiction"],
        "product": ["e-reader", "clip-on book light", "leather bookmark", "reading journal",
                    "special edition hardcover", "audiobook subscription", "book sleeve",
                    "annotation tabs"],
        "trope": ["enemies to lovers", "found family", "an unreliable narrator", "a locked-room mystery",
                  "a slow burn", "the chosen one", "a dual timeline"],
        "rating": ["3", "3.5", "4", "4.5", "5"],
        "templates": [
            "Just finished a {genre} debut built on {trope}. {rating} stars",
            "Monthly wrap-up: {num} books, mostly {genre}, one DNF",
            "If you love {trope}, this {genre} pick is for you",
            "Book review, no spoilers: gorgeous prose, slow middle, perfect ending. {rating}/5",
            "My TBR for the weekend: a {genre} doorstopper and a short {genre2} palate cleanser",
            "Annotating with sticky tabs and a pencil: colour coded for quotes, plot and feelings",
            "Reading slump fix: switch to audiobooks or pick up a short {genre} novel",
            "Unpopular opinion: {trope} is overdone in {genre}",
            "Bookshelf tour: my {genre} shelf is out of control",
            "Cozy reading night with my {product} and a pot of tea",
            "Top {num} {genre} books I'll never stop recommending",
            "Book club pick this month is {genre} with {trope}. Discussion questions below",
            "Why I switched to an e-reader for my commute, and kept my {product}",
            "Five-star {genre} reads of the year so far",
        ],
        "hashtags": ["#bookstagram", "#booktok", "#bookreview", "#bookrecommendations", "#currentlyreading",
                     "#tbr", "#fantasybooks", "#bookworm", "#booklover", "#bookclub", "#readingcommunity",
                     "#thrillerbooks", "#romancereads"],
        "keywords": ["books", "reading", "book lover", "bookstagram", "booktok", "author", "novel",
                     "bookworm", "book review", "reader"],
        "sponsors": ["Inkwell Books", "Chapter & Verse", "Nightowl Reader", "Dog-ear Press"],
        "brand_words": ["Quill", "Folio", "Paperback", "Marginalia", "Verso", "Ex Libris"],
    },
}

#: The niches of the sample, in a fixed order.
NICHES: tuple[str, ...] = tuple(_NICHE_DATA)

_COMMON_SLOTS: dict[str, list[str]] = {
    "num": ["2", "3", "4", "5", "6", "7", "8", "10", "12", "14"],
    "time": ["morning", "evening", "night", "weekend", "AM", "PM"],
}

_GENERIC_CAPTIONS = [
    "Sunday reset: coffee, clean sheets and planning the week",
    "Grateful for this little community. Thank you for being here",
    "Q&A time! Drop your questions below",
    "Slow morning, long walk, early night",
    "Life update: new apartment, same chaos",
    "Monday motivation: done is better than perfect",
    "Friday feeling. What are your weekend plans?",
    "Took a few days off social media and it was exactly what I needed",
    "Birthday dinner with my favourite people",
    "Rainy day, candles on, inbox zero",
    "A little behind the scenes of how I plan content for the week",
    "Small milestone today. Thank you for every comment and message",
    "Packing for a weekend away with friends",
    "New haircut, who dis",
    "Journaling prompts for a calmer week",
    "Farmers market Saturday and a very big bunch of flowers",
    "Trying to drink more water and go to bed earlier this month",
    "Photo dump from the last two weeks",
    "Morning walk, podcast on, phone on do not disturb",
    "Taking it easy this week. Rest is productive too",
]
_GENERIC_HASHTAGS = ["#sundayreset", "#mondaymotivation", "#lifelately", "#photodump", "#weekendvibes",
                     "#selfcare", "#dayinmylife", "#grateful", "#behindthescenes", "#slowliving",
                     "#contentcreator", "#lifeupdate"]
_CLOSERS = ["What would you add?", "Save this for later.", "Tell me in the comments.", "Link in bio.",
            "More in my stories.", "Which one are you trying first?",
            "Share this with a friend who needs it.",
            "Questions? Ask below.", "Would you try this?"]
_YOUTUBE_CLOSERS = ["Full video on the channel.", "New video is up, link in description.",
                    "Subscribe for more.", "Chapters in the description."]

# Sponsored-post phrasing. Clear and early: disclosed at the start, platform flag set.
_SPONSOR_EARLY = [
    "#ad Loving the new {sponsor} {product}.",
    "Paid partnership with {sponsor}.",
    "AD | {sponsor} sent me their {product} to try.",
    "#sponsored Teaming up with {sponsor} on this one.",
    "Ad: my honest take on the {sponsor} {product}.",
    "#ad This post is sponsored by {sponsor}.",
]
# Late or vague: the disclosure hides at the very end.
_SPONSOR_LATE = [
    "Thanks to {sponsor} for the {product} #sp",
    "Featuring the {sponsor} {product} #sp",
    "{sponsor} {product} in this one #collab",
    "Shoutout to {sponsor} #sp",
    "With my {sponsor} {product} #partner",
]
# Undisclosed: a discount code or an affiliate link, no #ad and no flag.
_SPONSOR_HIDDEN = [
    "Obsessed with my {sponsor} {product}, use code {code} for 15% off",
    "Grab the {product} here: https://shop.example/{sponsor_slug}?ref={ref}",
    "Code {code} saves you 20% at {sponsor}",
    "My {product} is from {sponsor}, use code {code} at checkout",
    "Link to the {product}: https://shop.example/{sponsor_slug}/{product_slug}?ref={ref}",
]

_BRAND_SUFFIXES = ["Gear", "Supply Co", "Outfitters", "Labs", "Studio", "Goods", "Collective", "Works"]
_BRAND_BIOS = [
    "Official account of {name}. Shop our new collection. Free shipping.",
    "{name} official. {product_cap} and more, designed in-house. Shop the link below.",
    "The official home of {name} | {product_cap} | Free returns",
    "Official {name} page. Customer service via DM. Worldwide shipping.",
]
_BRAND_PROMOS = [
    "New drop: the {product}, live now. Free shipping on orders over $50. Link in bio",
    "Restocked! Our best-selling {product}, back in every size and colour",
    "Sale ends tonight: {pct}% off the {product}. Shop now",
    "Introducing the all-new {product} from {name}. Available today",
    "Limited edition {product}, only 500 made. Tap to shop",
    "Customer favourite: the {product}. Over 2,000 five-star reviews",
    "Giveaway! Win our {product}: follow @{handle}, like this post and tag a friend",
    "Built to last: our {product}. Shop the collection",
    "Free shipping weekend across the whole store. Don't miss the {product}",
    "Meet the team behind the {product}. Designed in-house, tested by our community",
]

_FIRST_NAMES = [
    "maya", "jess", "liam", "noah", "ava", "mia", "ethan", "sofia", "lucas", "chloe", "amara",
    "kenji", "priya", "diego", "lena", "omar", "hannah", "theo", "zara", "felix", "isla", "mateo",
    "nina", "arjun", "ella", "jonas", "lucia", "sam", "ruby", "kai", "elif", "marco", "freya",
    "tomas", "aisha", "leo", "clara", "ravi", "ines", "owen", "yuki", "bea", "hugo", "nora",
    "finn", "alba", "david", "emma", "jade", "kofi", "lars", "maria", "nadia", "oscar", "paula",
    "rosa", "sven", "tara", "uma", "vera", "will", "ximena", "yara", "zoe", "ben", "carla",
]

_HANDLE_STYLES = ["{w}with{n}", "{n}.{w}", "{n}_{w}", "the{w}{n}", "{w}by{n}", "{n}{w}", "{w}.{n}",
                  "{n}_{w}_life", "{w}_{n}"]

_BIO_TEMPLATES = [
    "{Role} {phrase} in {city} | {role2} | {emoji}",
    "{Role} based in {city}. {Phrase}.",
    "{Phrase} {emoji} {Role} • {city}",
    "{Role} & {role2}. {Phrase}.",
    "{Role} from {city}, {phrase}. DMs open for collabs {emoji}",
    "{Phrase}. {Role} in {city}.",
    "{emoji} {Role} | {phrase} | {city}",
    "{Role}. {Phrase}. New posts every week.",
]

# Country, weight, share of non-English language codes.
_COUNTRIES: list[tuple[str, float, tuple[tuple[str, float], ...]]] = [
    ("US", 0.33, (("es", 0.05),)),
    ("GB", 0.11, ()),
    ("CA", 0.07, (("fr", 0.15),)),
    ("AU", 0.05, ()),
    ("DE", 0.05, (("de", 0.35),)),
    ("FR", 0.04, (("fr", 0.35),)),
    ("ES", 0.04, (("es", 0.35),)),
    ("IT", 0.03, (("it", 0.35),)),
    ("BR", 0.05, (("pt", 0.40),)),
    ("IN", 0.07, (("hi", 0.10),)),
    ("MX", 0.03, (("es", 0.40),)),
    ("NL", 0.03, (("nl", 0.25),)),
    ("IE", 0.02, ()),
    ("SE", 0.02, (("sv", 0.25),)),
    ("NZ", 0.02, ()),
    ("ZA", 0.02, ()),
    ("AT", 0.01, (("de", 0.35),)),
    ("CH", 0.01, (("de", 0.25), ("fr", 0.10))),
]
_CITIES: dict[str, list[str]] = {
    "US": ["Denver", "Austin", "Portland", "Brooklyn", "Seattle", "Chicago", "San Diego", "Nashville",
           "Boulder", "Minneapolis"],
    "GB": ["London", "Manchester", "Bristol", "Edinburgh", "Leeds", "Brighton", "Glasgow"],
    "CA": ["Toronto", "Vancouver", "Montreal", "Calgary"],
    "AU": ["Sydney", "Melbourne", "Brisbane", "Perth"],
    "DE": ["Berlin", "Munich", "Hamburg", "Cologne"],
    "FR": ["Paris", "Lyon", "Marseille", "Bordeaux"],
    "ES": ["Madrid", "Barcelona", "Valencia", "Seville"],
    "IT": ["Milan", "Rome", "Turin", "Bologna"],
    "BR": ["São Paulo", "Rio de Janeiro", "Curitiba", "Florianópolis"],
    "IN": ["Mumbai", "Bengaluru", "Delhi", "Pune"],
    "MX": ["Mexico City", "Guadalajara", "Monterrey", "Oaxaca"],
    "NL": ["Amsterdam", "Utrecht", "Rotterdam"],
    "IE": ["Dublin", "Cork", "Galway"],
    "SE": ["Stockholm", "Gothenburg", "Malmö"],
    "NZ": ["Auckland", "Wellington", "Christchurch"],
    "ZA": ["Cape Town", "Johannesburg", "Durban"],
    "AT": ["Vienna", "Graz", "Innsbruck"],
    "CH": ["Zurich", "Geneva", "Bern"],
}

_PLATFORMS = ("instagram", "tiktok", "youtube")
_PLATFORM_WEIGHTS = (0.45, 0.30, 0.25)

# --------------------------------------------------------------------------------------
# Brand catalogue: two hand-written product descriptions per niche, in NICHES order.
# --------------------------------------------------------------------------------------

_BRAND_CATALOGUE: list[dict[str, Any]] = [
    {"niche": "skincare", "name": "Halcyon Skin",
     "description": (
         "Halcyon Skin Barrier Recovery Cream is a fragrance-free moisturizer with 5% ceramides, "
         "squalane and colloidal oatmeal that repairs a damaged skin barrier overnight. The "
         "whipped texture absorbs quickly and sits well under sunscreen and makeup. Dermatologist "
         "tested and non-comedogenic, it is made for dry, sensitive and eczema-prone skin, and for "
         "anyone whose face feels tight after retinol or exfoliating acids."
     ),
     "competitors": ["Barrier Botanics", "Lumen Derm"], "min_followers": 1000, "max_followers": 100000},
    {"niche": "skincare", "name": "Solstice SPF",
     "description": (
         "Solstice Daily Veil SPF 50 is a mineral sunscreen with 20% non-nano zinc oxide that "
         "leaves no white cast, even on deeper skin tones. The sheer fluid is enriched with "
         "niacinamide and green tea extract to calm redness. It is water resistant for 40 minutes, "
         "fragrance-free and designed for everyday wear under makeup by people with oily, "
         "combination and acne-prone skin."
     ),
     "countries": ["US", "CA"]},
    {"niche": "trail running", "name": "Ridgeline Running",
     "description": (
         "The Ridgeline 4 is a lightweight trail running shoe with a grippy Vibram outsole, rock "
         "plate and 6 mm drop, built for technical singletrack and ultramarathon distances. Its 5 "
         "mm lugs bite into mud and loose scree, while a reinforced toe cap protects against "
         "rocks. A roomy toe box leaves space for swelling feet in the final miles. Made for trail "
         "runners who race anything from a 50K to 100 miles."
     ),
     "competitors": ["Summit Trail Co", "Scree Running"], "min_followers": 1000, "max_followers": 100000,
     "exclude": 2},
    {"niche": "trail running", "name": "Cairn Hydration",
     "description": (
         "The Cairn 12 is a running hydration vest with 12 litres of storage, two 500 ml soft "
         "flasks and a bounce-free fit for long days in the mountains. Breathable mesh wraps the "
         "torso, the front pockets hold gels and a phone, and the back compartment swallows the "
         "mandatory kit for ultra races: rain shell, headlamp and emergency blanket. Built for "
         "trail runners, fastpackers and ultramarathoners."
     ),
     "competitors": ["Peakline"]},
    {"niche": "vegan cooking", "name": "Greenfold Kitchen",
     "description": (
         "Greenfold Smoked Tofu is an extra-firm organic tofu, slow-smoked over beechwood and "
         "ready to slice, crumble or pan-fry straight from the pack with no pressing needed. Every "
         "serving has 18 g of plant protein. It is great in stir-fries, sandwiches and breakfast "
         "scrambles, and made for plant-based home cooks who want quick, high-protein weeknight "
         "dinners."
     ),
     "countries": ["DE", "AT", "CH", "NL"], "languages": ["de", "en"], "competitors": ["Green Larder"]},
    {"niche": "vegan cooking", "name": "Umami Pantry",
     "description": (
         "Umami Pantry Cheesy Flakes are a fortified nutritional yeast seasoning with vitamin B12, "
         "sea salt and roasted garlic. Sprinkle them over pasta, popcorn or roasted vegetables, or "
         "blend them into a dairy-free cashew cheese sauce. Gluten-free and packed in a resealable "
         "compostable pouch, they are made for vegan cooks and anyone cutting down on dairy."
     ),
     "competitors": ["Sprout Pantry", "Greenfold Kitchen"]},
    {"niche": "budget travel", "name": "Nomad Carry",
     "description": (
         "The Nomad Carry 35 is a carry-on travel backpack that fits budget airline cabin limits "
         "and opens like a suitcase for easy packing. It is made of recycled, water-resistant "
         "ripstop with lockable zips, a padded laptop sleeve, a stowable hip belt and a hidden "
         "passport pocket. Built for backpackers, digital nomads and anyone who travels carry-on "
         "only."
     ),
     "competitors": ["Wayfarer Packs", "TrekLite"]},
    {"niche": "budget travel", "name": "Globetalk",
     "description": (
         "Globetalk is a prepaid travel eSIM that gives you mobile data in more than 120 countries "
         "without roaming fees or swapping SIM cards. Install it before you fly, top up in the app "
         "and get connected the moment you land. Plans start at 1 GB for a weekend city break and "
         "scale to unlimited data for long trips. Made for budget travellers, backpackers and "
         "remote workers on the move."
     ),
     "competitors": ["Roamly"]},
    {"niche": "gaming", "name": "Vortex Peripherals",
     "description": (
         "The Vortex K75 is a hot-swappable mechanical gaming keyboard in a compact 75% layout "
         "with pre-lubed linear switches and PBT keycaps. A gasket-mounted aluminium case dampens "
         "the sound, and the 8,000 Hz polling rate keeps input lag to a minimum in competitive "
         "shooters. Per-key RGB, a volume knob and USB-C round it off for PC gamers and streamers."
     ),
     "competitors": ["Apex Peripherals", "PixelForge"]},
    {"niche": "gaming", "name": "Echo Audio",
     "description": (
         "The Echo Pro is a wireless gaming headset that pairs 50 mm drivers with a detachable "
         "broadcast-quality microphone for clear comms in ranked matches and on stream. "
         "Memory-foam ear cushions stay comfortable through marathon sessions and the battery "
         "lasts up to 40 hours. It connects over a low-latency 2.4 GHz dongle or Bluetooth and "
         "works with PC, consoles and mobile."
     ),
     "competitors": ["Nebula Audio"], "min_followers": 10000, "max_followers": 500000},
    {"niche": "parenting", "name": "Little Oak",
     "description": (
         "The Little Oak Toddler Tower is a height-adjustable kitchen helper made from solid birch "
         "plywood that lets children aged 18 months to 5 years stand safely at the counter. Guard "
         "rails on all four sides and a non-slip platform keep little ones secure while they help "
         "with baking and washing vegetables. It folds flat for storage and is designed for "
         "Montessori-inspired families."
     ),
     "competitors": ["Kinder Co"], "exclude": 1},
    {"niche": "parenting", "name": "Hushaby",
     "description": (
         "Hushaby is a portable white noise machine and night light for babies and toddlers, with "
         "20 soothing sounds, a warm amber glow and a cry-activated sensor. It clips onto a "
         "stroller or car seat, charges over USB-C and runs for 30 hours on one charge. Made for "
         "parents working on nap schedules and bedtime routines, at home or on the road."
     ),
     "countries": ["GB", "IE"], "competitors": ["Snugglebug", "Little Nest"]},
    {"niche": "home fitness", "name": "Forge Fitness",
     "description": (
         "Forge Adjustable Dumbbells replace 15 pairs of weights with a single set that adjusts "
         "from 2.5 kg to 24 kg with a turn of the dial. The steel plates are coated in quiet, "
         "floor-friendly urethane and the compact stand fits in the corner of a small apartment. "
         "Ideal for home workouts, strength training and progressive overload without a gym "
         "membership."
     ),
     "competitors": ["IronNest", "HomeRep"]},
    {"niche": "home fitness", "name": "Stretchwell",
     "description": (
         "The Stretchwell Pro is a 6 mm natural rubber yoga and Pilates mat with a grippy "
         "polyurethane top layer that stays put during sweaty HIIT sessions. Laser-etched "
         "alignment lines help with form, and the closed-cell surface wipes clean after every "
         "workout. It comes with a carry strap and suits home fitness, yoga, mobility work and "
         "floor-based core training."
     ),
     "min_followers": 1000, "max_followers": 100000},
    {"niche": "personal finance", "name": "Tally",
     "description": (
         "Tally is a zero-based budgeting app that links to your bank accounts, sorts every "
         "transaction into categories and shows exactly how much you can spend before payday. "
         "Built-in debt payoff planners support both the snowball and the avalanche method, and "
         "sinking funds help you save for irregular expenses. Designed for young professionals and "
         "families taking control of their money for the first time."
     ),
     "competitors": ["Ledgerly"]},
    {"niche": "personal finance", "name": "Evergreen Invest",
     "description": (
         "Evergreen Invest is a low-cost robo-advisor that builds a diversified portfolio of index "
         "funds for you, with a 0.25% annual fee and no minimum balance. Automatic rebalancing, "
         "dividend reinvestment and tax-loss harvesting happen in the background. It offers "
         "individual, joint and retirement accounts and is aimed at beginner investors who want to "
         "dollar-cost average without picking stocks."
     ),
     "countries": ["US"], "languages": ["en"], "competitors": ["Stackwise", "Brightsave"]},
    {"niche": "gardening", "name": "Rootstock Garden",
     "description": (
         "The Rootstock Raised Bed Kit is a 120 by 90 cm modular garden bed made from galvanised, "
         "powder-coated steel that will not rot or leach chemicals into your soil. Its 40 cm depth "
         "gives tomatoes, carrots and potatoes plenty of room, and the panels bolt together in "
         "under 30 minutes. A great fit for vegetable gardeners, allotment holders and no-dig "
         "growers."
     ),
     "competitors": ["Seed & Spade"]},
    {"niche": "gardening", "name": "Sproutlight",
     "description": (
         "Sproutlight is a full-spectrum LED grow light bar for seed starting and houseplants, "
         "with adjustable height, a built-in timer and three brightness levels. It uses 40 W to "
         "light a 60 by 30 cm shelf and keeps seedlings stocky instead of leggy through the darker "
         "months. Made for indoor gardeners, balcony growers and anyone starting tomatoes and "
         "chillies from seed."
     ),
     "competitors": ["GreenThumb Supply", "Rootwise"]},
    {"niche": "photography", "name": "Aurora Optics",
     "description": (
         "The Aurora 35mm f/1.4 is a fast prime lens for mirrorless cameras with a sharp, "
         "weather-sealed optical design, silent autofocus and a de-clickable aperture ring. It "
         "renders creamy bokeh for portraits and gathers enough light for street photography after "
         "dark and astrophotography. Compact and built for photographers who want one lens for "
         "everyday shooting."
     ),
     "competitors": ["Northlight Optics"], "exclude": 2},
    {"niche": "photography", "name": "Tripodix",
     "description": (
         "The Tripodix Traveler is a carbon fibre travel tripod that folds down to 40 cm and "
         "weighs 1.3 kg yet holds cameras up to 10 kg. A low-profile ball head with an Arca-Swiss "
         "plate keeps long exposures and focus-stacked landscapes sharp, and one leg converts into "
         "a monopod. Made for landscape, astro and travel photographers who hike to their "
         "locations."
     ),
     "competitors": ["Aperture Works", "Frame & Field"]},
    {"niche": "specialty coffee", "name": "Grindwell",
     "description": (
         "The Grindwell C40 is a hand coffee grinder with 38 mm stainless steel conical burrs that "
         "give a consistent grind from espresso to French press. The precise stepped adjustment "
         "makes dialing in pour-over and AeroPress recipes easy, and the aluminium body holds 30 g "
         "of beans. Built for home baristas and specialty coffee lovers who want café-quality "
         "grinding at home and on the road."
     ),
     "competitors": ["Gooseneck Co"], "min_followers": 5000, "max_followers": 50000},
    {"niche": "specialty coffee", "name": "Altitude Roasters",
     "description": (
         "Altitude Roasters Ethiopia Guji is a single-origin, washed specialty coffee roasted "
         "light in small batches to bring out notes of jasmine, bergamot and ripe peach. Every 250 "
         "g bag is stamped with its roast date and ships within 48 hours of roasting. It shines as "
         "a pour-over or filter coffee and is made for specialty coffee drinkers who like bright, "
         "tea-like cups."
     ),
     "countries": ["GB", "IE", "NL"], "competitors": ["Roast Republic", "Bean Theory"]},
    {"niche": "dog care", "name": "Trailpaw",
     "description": (
         "The Trailpaw No-Pull Harness has a front clip that gently discourages pulling, padded "
         "chest plates and five adjustment points for a secure fit on dogs of every shape. "
         "Reflective stitching keeps evening walks visible and the quick-dry webbing shrugs off "
         "rain, mud and swims. Designed for owners working on loose-leash walking, hiking with "
         "their dogs or managing strong pullers."
     ),
     "competitors": ["Trailhound Gear"]},
    {"niche": "dog care", "name": "Good Bowl",
     "description": (
         "Good Bowl Fresh is gently cooked dog food made from human-grade chicken, sweet potato "
         "and vegetables, portioned to your dog's age, weight and activity level and delivered "
         "frozen. The recipes are formulated by veterinary nutritionists, contain no artificial "
         "preservatives and suit sensitive stomachs. Made for dog parents who want a fresh diet or "
         "a healthy topper for their dog's kibble."
     ),
     "competitors": ["Pawsome Pantry", "Good Boy Chews"]},
    {"niche": "sustainable fashion", "name": "Fernweave",
     "description": (
         "The Fernweave Everyday Linen Shirt is cut from European flax linen, garment-dyed with "
         "low-impact dyes and sewn in a family-run factory that pays a living wage. It gets softer "
         "with every wash, breathes on hot days and is made to last for years. The relaxed unisex "
         "fit suits slow fashion lovers building a capsule wardrobe."
     ),
     "competitors": ["Loop Linen", "Threadbare Studio"], "min_followers": 1000, "max_followers": 100000},
    {"niche": "sustainable fashion", "name": "Mend & Co",
     "description": (
         "The Mend & Co Visible Mending Kit contains sashiko needles, organic cotton threads in "
         "eight colours, a darning mushroom and a step-by-step guide to patching jeans and darning "
         "knitwear. Everything comes in a plastic-free tin. It is made for anyone who would rather "
         "repair than replace their clothes, from first-time menders to experienced sewists."
     ),
     "competitors": ["Second Stitch"]},
    {"niche": "road cycling", "name": "Velomotion",
     "description": (
         "The Velomotion Aero 50 is a tubeless-ready carbon wheelset for road bikes with 50 mm "
         "deep rims, a 25 mm internal width and ceramic bearing hubs. At 1,420 g it is light "
         "enough for long climbs and stiff enough for sprinting in criteriums. Built for road "
         "racers, gran fondo riders and ambitious amateurs chasing faster average speeds."
     ),
     "competitors": ["Velocita", "Col Climber"], "exclude": 3},
    {"niche": "road cycling", "name": "Cadenza Power",
     "description": (
         "The Cadenza P2 is a dual-sided pedal power meter that measures watts, cadence and "
         "left-right balance to within 1%. It moves between bikes in minutes, pairs over ANT+ and "
         "Bluetooth with bike computers and smart trainers, and lasts 120 hours per charge. Made "
         "for cyclists who train with power: structured intervals, FTP tests and zone 2 endurance "
         "rides."
     ),
     "competitors": ["Watt Lab"]},
    {"niche": "book reviews", "name": "Lanternlight",
     "description": (
         "The Lanternlight Paperwhite is a waterproof e-reader with a 7-inch glare-free display, "
         "adjustable warm light and weeks of battery life. It stores thousands of books, plays "
         "audiobooks over Bluetooth and weighs less than a paperback. Made for avid readers who "
         "work through fantasy series, thrillers and book club picks on the commute, in the bath "
         "or in bed."
     ),
     "competitors": ["Nightowl Reader"]},
    {"niche": "book reviews", "name": "Marginalia Press",
     "description": (
         "The Marginalia Reading Journal is a linen-bound notebook for tracking every book you "
         "read, with pages for ratings, favourite quotes, character maps and a yearly reading "
         "challenge. It lies flat, uses 120 gsm paper that resists bleed-through and comes with a "
         "set of annotation tabs. Designed for book lovers, book club hosts and reviewers who want "
         "to remember what they read."
     ),
     "competitors": ["Inkwell Books", "Dog-ear Press"]},
]
# Variants used when more brands are asked for than the catalogue holds.
_BRAND_VARIANT_SUFFIXES = ["Studio", "Select", "Works", "Co-op", "Outdoor", "Labs", "Collective", "Home"]

# --------------------------------------------------------------------------------------
# Conversation vocabulary: comments under the posts and the creators' replies
# --------------------------------------------------------------------------------------
# Per niche: real questions (every one ends with "?"), substantive remarks and the
# creator's answers. Templates name only {product} (from the niche) and {num}. No comment
# other than a question contains "?", so a question is recognisable by its last character.

_CONVERSATION: dict[str, dict[str, list[Any]]] = {
    "skincare": {
        "questions": [
            ("Is this safe for sensitive skin?", "Yes, it's fragrance-free, but always patch test first"),
            ("Can I use this with retinol?", "Yes, just use them on alternate nights at first"),
            ("Do you put this on before or after moisturizer?", "Before, thinnest to thickest"),
            ("How long until you saw results?", "About four weeks of daily use"),
            ("Does it pill under makeup?", "Not if you give it a minute to sink in"),
        ],
        "remarks": ["My barrier finally stopped stinging after I cut back on actives like you said",
                    "Patch tested it on my neck first and no reaction at all",
                    "Alternating the actives instead of layering them saved my skin"],
    },
    "trail running": {
        "questions": [
            ("Which shoes are these?", "They're my everyday trail shoes, linked in my bio"),
            ("How do you train for the downhills?", "Short quick steps and lots of practice on easy descents"),
            ("What do you eat during a 50K?", "Gels every 30 minutes and real food at the aid stations"),
            ("How many km a week do you run?", "Around 60 km with one long run on the weekend"),
            ("Are poles worth it for a first ultra?", "On steep courses, yes. Practise with them first"),
        ],
        "remarks": ["Those descents look brutal, well run",
                    "Ran that route last summer and the second climb nearly broke me",
                    "Power hiking the climbs changed my races too"],
    },
    "vegan cooking": {
        "questions": [
            ("How long did the sauce take?", "About 20 minutes start to finish"),
            ("Can I swap the cashews for something nut-free?", "Sunflower seeds work great instead"),
            ("How much protein is in one bowl?", "Around 30 g with the extra tofu"),
            ("Does this freeze well?", "Yes, it keeps for three months in the freezer"),
            ("What can I use instead of tofu?", "Chickpeas or tempeh both work"),
        ],
        "remarks": ["Made this last night and my partner went back for seconds",
                    "The miso trick is genius",
                    "Used chickpeas instead and it still worked perfectly"],
    },
    "budget travel": {
        "questions": [
            ("How much did the whole trip cost?", "Just under 900 dollars including flights"),
            ("Did you book the hostels in advance?", "Only the first two nights, then I winged it"),
            ("Is it safe to travel there solo?", "I felt very safe, just the usual city precautions"),
            ("Which backpack is this?", "A 40 litre carry-on pack, linked in my bio"),
            ("How did you get from the airport?", "The airport bus, it's cheap and runs all night"),
        ],
        "remarks": ["Went there last spring on a tiny budget and loved every day",
                    "The night bus tip saved me a fortune",
                    "Adding this to my list for next year"],
    },
    "gaming": {
        "questions": [
            ("What are your PC specs?", "Full specs are in the video description"),
            ("Which switches are in that keyboard?", "Tactile browns, quiet enough for streaming"),
            ("Is this game worth it at full price?", "I'd wait for a sale, but it's a great game"),
            ("What sensitivity do you play on?", "800 DPI and 0.35 in game"),
            ("Does it run well on the Steam Deck?", "Yes, a steady 40 fps on medium"),
        ],
        "remarks": ["That clutch at the end was insane",
                    "Switched to this setup after your last video and my aim is better already",
                    "The level design in this one is so underrated"],
    },
    "parenting": {
        "questions": [
            ("What age did you start this?", "We started around six months"),
            ("How do you get them to nap?", "Same routine every day and a dark room"),
            ("Which carrier is this?", "It's a soft structured carrier, linked in my bio"),
            ("Did the sleep regression last long?", "About two weeks, then it got better"),
            ("Any tips for picky eaters?", "Keep offering, no pressure, and eat together"),
        ],
        "remarks": ["We went through the exact same thing at eight months",
                    "This made me feel so much less alone at 3am",
                    "Tried the wind-down routine and bedtime is so much calmer"],
    },
    "home fitness": {
        "questions": [
            ("How many sets and reps?", "Three sets of 10 to 12 with a minute of rest"),
            ("Is this okay for bad knees?", "Swap the jumps for step-ups and it's knee-friendly"),
            ("What weight are those dumbbells?", "12 kg each for this one"),
            ("How long until you could do a pull-up?", "About four months of negatives"),
            ("Can I do this without equipment?", "Yes, use a backpack full of books"),
        ],
        "remarks": ["Did this workout this morning and my legs are shaking",
                    "The form cues in this one really helped me",
                    "Three weeks into your plan and I can feel the difference"],
    },
    "personal finance": {
        "questions": [
            ("Is this account FDIC insured?", "Yes, up to the usual limit"),
            ("How much should I have in an emergency fund?", "Three to six months of expenses"),
            ("Should I pay off debt or invest first?", "High-interest debt first, then invest"),
            ("Which budgeting app do you use?", "A simple spreadsheet, honestly"),
            ("Does this work outside the US?", "The idea does, the accounts differ by country"),
        ],
        "remarks": ["Paid off my last card this month thanks to the snowball method",
                    "Finally opened a retirement account after this post",
                    "Automating my savings was the best thing I did this year"],
    },
    "gardening": {
        "questions": [
            ("What zone are you in?", "Zone 7b, so a fairly long season"),
            ("When did you start the seeds?", "Indoors about eight weeks before the last frost"),
            ("How often do you water them?", "Deep watering twice a week, more in a heatwave"),
            ("What soil mix is that?", "Half compost, half topsoil and a bit of perlite"),
            ("Is that tomato a cherry variety?", "Yes, Sungold, the sweetest one I've grown"),
        ],
        "remarks": ["My tomatoes look exactly like this, first harvest next week",
                    "Mulching like you showed cut my watering in half",
                    "Raised beds changed everything in my clay soil"],
    },
    "photography": {
        "questions": [
            ("What lens is this?", "A 35mm prime, wide open"),
            ("What were your settings?", "f/2.8, 1/250 and ISO 400"),
            ("Do you edit in Lightroom?", "Yes, with my own presets"),
            ("Was this shot handheld?", "Handheld, braced against a wall"),
            ("Which camera would you get as a beginner?", "Any used mirrorless body and a cheap prime"),
        ],
        "remarks": ["The light in this one is unreal",
                    "Tried your golden hour tips and my photos look so much better",
                    "Love how you framed the subject against the lines"],
    },
    "specialty coffee": {
        "questions": [
            ("What grind size do you use?", "Medium-fine, a bit coarser than table salt"),
            ("What's your ratio?", "1:16, so 15 g of coffee to 240 g of water"),
            ("Which grinder is that?", "A hand burr grinder, linked in my bio"),
            ("How long is the bloom?", "45 seconds with twice the coffee's weight in water"),
            ("Where do you buy your beans?", "A local roaster, always within a month of roasting"),
        ],
        "remarks": ["Tried your recipe this morning and the cup was so sweet",
                    "Never thought to adjust the water temperature, game changer",
                    "That washed Ethiopian sounds amazing"],
    },
    "dog care": {
        "questions": [
            ("What breed is she?", "She's a border collie mix"),
            ("Which harness is that?", "A no-pull harness with a front clip"),
            ("How long did loose-leash training take?", "A few months of short daily sessions"),
            ("Is that treat safe for puppies?", "Yes, but break it into small pieces"),
            ("How do you stop the barking at the door?", "We practise a place command with lots of treats"),
        ],
        "remarks": ["My pup does the exact same thing",
                    "The lick mat trick calmed my rescue so much",
                    "Started the recall games you showed and it's working"],
    },
    "sustainable fashion": {
        "questions": [
            ("Where is this from?", "It's secondhand, found it at a charity shop"),
            ("How does the linen hold up after washing?", "It softens with every wash, no shrinking so far"),
            ("What size are you wearing?", "A medium, it runs a little big"),
            ("Is this brand actually ethical?", "They publish their factory list, which is a good start"),
            ("How do you mend knits?", "Swiss darning, there's a tutorial in my highlights"),
        ],
        "remarks": ["Bought my last coat secondhand after your post and I love it",
                    "The capsule wardrobe idea made getting dressed so easy",
                    "Visible mending looks so good on denim"],
    },
    "road cycling": {
        "questions": [
            ("What tyre pressure do you run?", "About 70 psi on 28 mm tyres"),
            ("Which power meter is that?", "A pedal-based one, easy to swap between bikes"),
            ("How many hours a week do you train?", "Around ten hours in season"),
            ("What's your FTP?", "Around 280 watts at the moment"),
            ("Is that the disc version?", "Yes, the disc version"),
        ],
        "remarks": ["That climb is a killer, well ridden",
                    "Switched to tubeless after your video and no flats since",
                    "Zone 2 rides finally made sense after this"],
    },
    "book reviews": {
        "questions": [
            ("Is this one spicy?", "Mildly, a couple of scenes"),
            ("Does it have a sequel?", "Yes, the sequel comes out next spring"),
            ("Is it a standalone?", "It's a standalone, no cliffhanger"),
            ("Which edition is this?", "The special edition hardcover with sprayed edges"),
            ("Would you recommend it to someone who loved the first book?", "Absolutely, it's even better"),
        ],
        "remarks": ["Finished this last week and I'm still thinking about the ending",
                    "Added it to my TBR immediately",
                    "The audiobook narrator for this one is fantastic"],
    },
}
# Templates shared by every niche, with the answer to each question ({product} from the niche).
_QUESTION_TEMPLATES = [
    ("Where did you get the {product}?", "The {product} is linked in my bio!"),
    ("Is the {product} worth the money?", "For me, yes. I use the {product} almost every day"),
    ("How long have you had the {product}?", "I've had the {product} for about a year now"),
    ("Would you recommend the {product} for a beginner?", "Yes, the {product} is easy to start with"),
]
_REMARK_TEMPLATES = ["I've had the same {product} for a year and I still love it",
                     "Saving this, I've been looking at the {product} for ages",
                     "Your last post convinced me to get the {product} and it was a great call"]
# Replies that fit any question.
_ANY_ANSWERS = ["Thank you! I answered this in my stories too",
                "Great question, I'll do a full post on it soon",
                "Honestly it depends, send me a message and I'll explain"]
# Under brand accounts' posts the audience asks about shipping and stock.
_BRAND_QUESTIONS = [
    ("Do you ship to Canada?", "Yes, we ship to Canada! Details on our site"),
    ("When will this be back in stock?", "A restock is planned for next month"),
    ("Is there a discount code?", "Sign up to our newsletter for 10% off your first order"),
    ("Does this come in other colours?", "Three more colours are coming this season"),
    ("How long does delivery take?", "Usually 3 to 5 working days"),
    ("Is the {product} still available?", "Yes, the {product} is in stock now"),
]
_BRAND_REMARKS = ["Just ordered mine", "Received my {product} today, love it",
                  "Customer service was super helpful"]
_BRAND_ANY_ANSWERS = ["Please send us a DM and our team will help", "Thanks for your question, check your DMs"]
_GENERIC_COMMENTS = ["nice pic", "love this 😍", "🔥🔥🔥", "great post!", "Amazing!", "so good",
                     "👏👏👏", "wow", "❤️❤️", "Beautiful", "cool", "Nice one", "Love it!", "😍😍",
                     "Great content", "Awesome 🙌", "Yes!!", "Looks great", "nice", "👍"]
# Bought engagement: generic praise plus a little spam.
_BOT_COMMENTS = [*_GENERIC_COMMENTS, "Nice post! DM us to collaborate 💰", "Great feed, check my page",
                 "Promote it on our page 🚀", "Beautiful 💯💯"]
# Engagement pods: short, enthusiastic, interchangeable.
_POD_COMMENTS = ["Amazing as always!!", "Love this so much!! 🙌", "Obsessed!!",
                 "Killing it as always 💯", "Such great content!!", "This is everything 😍😍",
                 "Yesss 🔥🔥", "Always the best content!!", "Saving this!! 🙌", "Stunning as always ✨"]

_FORMATTER = string.Formatter()
_ARTICLE_RE = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")
_SLUG_RE = re.compile(r"[^a-z0-9]+")


def _fields(template: str) -> tuple[str, ...]:
    return tuple(f for _, f, _, _ in _FORMATTER.parse(template) if f)


def _sentence_starts(template: str) -> frozenset[str]:
    """Fields that open a sentence in ``template`` (their value gets a capital letter)."""
    starts = set()
    text = ""
    for literal, field, _, _ in _FORMATTER.parse(template):
        text += literal
        if field and (not text.strip() or text.rstrip()[-1:] in ".!?" and text.endswith(" ")):
            starts.add(field)
        if field:
            text += "x"
    return frozenset(starts)


def _end_sentence(text: str) -> str:
    return text if text[-1:] in ".!?" else f"{text}."


def _slug(text: str, sep: str = "") -> str:
    return _SLUG_RE.sub(sep, text.lower()).strip(sep)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the word is an acronym ("UTMB finisher" stays)."""
    if len(text) > 1 and text[1].islower():
        return text[:1].lower() + text[1:]
    return text


def _check_vocabulary() -> None:
    """Fail at import if a template names a slot its niche does not define."""
    for niche, data in _NICHE_DATA.items():
        if len(data["templates"]) < 12:
            raise AssertionError(f"niche {niche!r} needs at least 12 caption templates")
        for template in data["templates"]:
            for field in _fields(template):
                base = field.rstrip("0123456789")
                if base not in data and base not in _COMMON_SLOTS:
                    raise AssertionError(f"template slot {field!r} undefined in niche {niche!r}")
        talk = _CONVERSATION[niche]
        if any(not q.endswith("?") for q, _ in talk["questions"]):
            raise AssertionError(f"every question of niche {niche!r} must end with '?'")
        if any("?" in t for t in talk["remarks"]):
            raise AssertionError(f"a remark of niche {niche!r} contains '?'")
    if any(not q.endswith("?") for q, _ in [*_QUESTION_TEMPLATES, *_BRAND_QUESTIONS]):
        raise AssertionError("every question template must end with '?'")
    others = [*_REMARK_TEMPLATES, *_BRAND_REMARKS, *_GENERIC_COMMENTS, *_BOT_COMMENTS, *_POD_COMMENTS]
    if any("?" in t for t in others):
        raise AssertionError("only questions may contain '?'")


_check_vocabulary()


def tier_of(followers: int | None) -> str:
    """Return the follower tier of an account.

    Args:
        followers: Follower count, or ``None`` when the export does not give it.

    Returns:
        One of ``nano`` (<10k), ``micro`` (10k–100k), ``mid`` (100k–500k),
        ``macro`` (500k–1M), ``mega`` (≥1M) or ``unknown`` when followers is ``None``.
    """
    if followers is None:
        return "unknown"
    return TIERS[int(np.searchsorted(_TIER_EDGES, followers, side="right"))]


# --------------------------------------------------------------------------------------
# Public result type
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleInfo:
    """Where a generated sample was written and how many rows each main file holds.

    Attributes:
        directory: The output directory.
        creators, posts, brands: Paths of the three input files (extension = format).
        labels: Path of ``labels.csv`` (ground truth per creator).
        brand_labels: Path of ``brand_labels.csv`` (niche per brand).
        n_creators, n_posts, n_brands: Rows written to the creators, posts and brands
            files, deliberately bad rows included.
        comments, outcomes: Paths of the comments and outcomes files, or ``None`` when
            they were not asked for.
        n_comments, n_outcomes: Rows written to those files (0 when not written).
    """

    directory: Path
    creators: Path
    posts: Path
    brands: Path
    labels: Path
    brand_labels: Path
    n_creators: int
    n_posts: int
    n_brands: int
    comments: Path | None = None
    outcomes: Path | None = None
    n_comments: int = 0
    n_outcomes: int = 0


# --------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------


class _TextMaker:
    """Fills caption templates from a seeded ``random.Random``."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.niches = []
        for name in NICHES:
            data = _NICHE_DATA[name]
            compiled = [(t, _fields(t), _sentence_starts(t)) for t in data["templates"]]
            self.niches.append((data, compiled))

    def fill(
        self, data: dict[str, Any], template: str, fields: Sequence[str], starts: frozenset[str] = frozenset()
    ) -> str:
        choice = self.rnd.choice
        values: dict[str, str] = {}
        used: dict[str, list[str]] = {}
        for field in fields:
            if field in values:
                continue
            base = field.rstrip("0123456789")
            pool = data.get(base) or _COMMON_SLOTS[base]
            taken = used.setdefault(base, [])
            value = choice(pool)
            for _ in range(4):
                if value not in taken:
                    break
                value = choice(pool)
            taken.append(value)
            values[field] = _cap(value) if field in starts else value
        return template.format(**values)

    def caption(self, k: int) -> str:
        data, compiled = self.niches[k]
        template, fields, starts = self.rnd.choice(compiled)
        return self.fill(data, template, fields, starts)

    def hashtags(self, k: int, count: int) -> list[str]:
        return self.rnd.sample(self.niches[k][0]["hashtags"], count)


def _weighted_index(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _choose(rng: np.random.Generator, pool: np.ndarray, count: int) -> np.ndarray:
    count = min(count, len(pool))
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(pool, size=count, replace=False))


def _injected_count(rate: float, n: int, minimum: int) -> int:
    count = int(round(rate * n))
    return max(count, minimum) if n >= 100 else count


def _validate(n_creators: Any, n_brands: Any, posts_per_creator: Any, fmt: Any, seed: Any) -> tuple[int, int]:
    for name, value in (("n_creators", n_creators), ("n_brands", n_brands), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ConfigError(f"{name} must be an int, got {value!r}")
    if n_creators < 1:
        raise ConfigError(f"n_creators must be >= 1, got {n_creators}; ask for at least one creator")
    if n_brands < 1:
        raise ConfigError(f"n_brands must be >= 1, got {n_brands}; ask for at least one brand")
    if seed < 0:
        raise ConfigError(f"seed must be >= 0, got {seed}")
    try:
        lo, hi = (int(v) for v in posts_per_creator)
    except (TypeError, ValueError):
        raise ConfigError(
            f"posts_per_creator must be a pair of ints (min, max), got {posts_per_creator!r}"
        ) from None
    if lo < 0 or hi < lo:
        raise ConfigError(f"posts_per_creator must satisfy 0 <= min <= max, got {(lo, hi)}")
    if fmt not in _FORMATS:
        raise ConfigError(f"fmt must be one of {sorted(_FORMATS)}, got {fmt!r}")
    return lo, hi


def generate(
    out_dir: str | Path,
    *,
    seed: int = 7,
    n_creators: int = 2000,
    n_brands: int = 30,
    posts_per_creator: tuple[int, int] = (8, 24),
    bad_rows: bool = True,
    fmt: str = "csv",
    comments: bool = True,
    outcomes: bool = True,
) -> SampleInfo:
    """Write a seeded synthetic dataset of creators, posts, brands, comments, campaign
    outcomes and ground-truth labels.

    The same arguments always give byte-identical files. Creators are spread evenly over
    :data:`NICHES`; followers are log-normal (mostly nano and micro); engagement follows
    the tier. About 4% of creators are labelled fakes (``bought_followers``,
    ``bought_engagement``, ``mass_following``, ``engagement_burst``), 1.5% are brand
    accounts and 1.5% have a bio stuffed with keywords of another niche. About 10% of
    ordinary posts are sponsored, disclosed early, late or not at all. Comments and
    outcomes are made as the module docstring describes; ``labels.csv`` gains
    ``answers_questions`` (high/low) and ``in_pod`` (1/0) whether or not they are written.

    Args:
        out_dir: Directory to write into (created if missing; files are overwritten).
        seed: Seed of every random choice.
        n_creators: Number of genuine creators (bad rows come on top).
        n_brands: Number of genuine brands; the first 30 are hand-written (two per
            niche), further ones are variants of those.
        posts_per_creator: Inclusive (min, max) number of posts per creator.
        bad_rows: Append a few deliberately invalid rows to each input file (and give
            one creator a bio with HTML tags and invisible characters, which is valid).
        fmt: ``"csv"``, ``"jsonl"`` or ``"parquet"`` for the creators, posts, brands,
            comments and outcomes files; ``labels.csv`` and ``brand_labels.csv`` are
            always CSV. In parquet, a column that mixes numbers and text (because of bad
            rows or epoch-second dates) is written as text.
        comments: Also write ``comments.<ext>``, a sample of the comments under each post
            with the creators' replies.
        outcomes: Also write ``outcomes.<ext>``, results of past campaigns.

    Returns:
        A :class:`SampleInfo` with the paths written and their row counts.

    Raises:
        ConfigError: An argument is out of range or of the wrong type, or
            ``fmt="parquet"`` without pyarrow installed.
    """
    lo, hi = _validate(n_creators, n_brands, posts_per_creator, fmt, seed)
    n = int(n_creators)
    seed = int(seed)
    rng = np.random.default_rng([seed, 20261101])
    rnd = random.Random(seed)
    maker = _TextMaker(rnd)

    creators, labels, post_plan = _make_creators(rng, rnd, n, lo, hi, bad_rows)
    posts, undisclosed = _make_posts(rng, rnd, maker, creators, post_plan)
    for i, flag in enumerate(undisclosed):
        labels["has_undisclosed_sponsorship"][i] = int(flag)
    brands, brand_labels = _make_brands(rng, int(n_brands), creators, post_plan)

    # Conversations and outcomes draw from streams of their own, so switching them on or
    # off leaves the other files as they are.
    talk_rng = np.random.default_rng([seed, 20261101, 1])
    talk = _plan_conversations(talk_rng, n, post_plan)
    labels["answers_questions"] = ["high" if h else "low" for h in talk["high"].tolist()]
    labels["in_pod"] = [int(p >= 0) for p in talk["pod_of"].tolist()]
    comment_table = _make_comments(talk_rng, post_plan, talk, creators, posts) if comments else None
    outcome_table = None
    if outcomes:
        outcome_rng = np.random.default_rng([seed, 20261101, 2])
        outcome_table = _make_outcomes(outcome_rng, post_plan, talk, labels, brand_labels)

    if bad_rows:
        _add_bad_creators(creators, n)
        _add_bad_posts(posts, creators, n)
        _add_bad_brands(brands, int(n_brands))
        if comment_table is not None:
            _add_bad_comments(comment_table, posts["post_id"][: len(post_plan["post_owner"])])
        if outcome_table is not None:
            _add_bad_outcomes(outcome_table, labels["creator_id"])

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ext = _FORMATS[fmt]
    paths = {name: out / f"{name}.{ext}" for name in ("creators", "posts", "brands")}
    _write_table(paths["creators"], _CREATOR_COLUMNS, creators, fmt)
    _write_table(paths["posts"], _POST_COLUMNS, posts, fmt)
    _write_table(paths["brands"], _BRAND_COLUMNS, brands, fmt)
    labels_path = out / "labels.csv"
    brand_labels_path = out / "brand_labels.csv"
    _write_table(labels_path, _LABEL_COLUMNS, labels, "csv")
    _write_table(brand_labels_path, _BRAND_LABEL_COLUMNS, brand_labels, "csv")
    comments_path = outcomes_path = None
    if comment_table is not None:
        comments_path = out / f"comments.{ext}"
        _write_table(comments_path, _COMMENT_COLUMNS, comment_table, fmt)
    if outcome_table is not None:
        outcomes_path = out / f"outcomes.{ext}"
        _write_table(outcomes_path, _OUTCOME_COLUMNS, outcome_table, fmt)
    return SampleInfo(
        directory=out,
        creators=paths["creators"],
        posts=paths["posts"],
        brands=paths["brands"],
        labels=labels_path,
        brand_labels=brand_labels_path,
        n_creators=len(creators["creator_id"]),
        n_posts=len(posts["post_id"]),
        n_brands=len(brands["brand_id"]),
        comments=comments_path,
        outcomes=outcomes_path,
        n_comments=len(comment_table["comment_id"]) if comment_table is not None else 0,
        n_outcomes=len(outcome_table["brand_id"]) if outcome_table is not None else 0,
    )


# --------------------------------------------------------------------------------------
# Creators
# --------------------------------------------------------------------------------------


def _make_creators(
    rng: np.random.Generator, rnd: random.Random, n: int, lo: int, hi: int, bad_rows: bool
) -> tuple[dict[str, list[Any]], dict[str, list[Any]], dict[str, Any]]:
    k = len(NICHES)
    niche = rng.permutation(np.resize(np.arange(k), n))
    platform = _weighted_index(rng, _PLATFORM_WEIGHTS, n)
    country_idx = _weighted_index(rng, [c[1] for c in _COUNTRIES], n)
    lang_u = rng.random(n)

    # Followers: log-normal, micro and nano dominate. ``true_f`` drives engagement even
    # where the export leaves followers blank.
    true_f = np.clip(np.rint(10 ** rng.normal(4.2, 0.8, n)), 120, 40_000_000).astype(np.int64)

    # Roles: fakes and brand accounts come from instagram/tiktok (they need followers and
    # following), stuffed bios from anyone else. All three sets are disjoint.
    social = np.flatnonzero(platform != 2)
    order = rng.permutation(social)
    n_fake = _injected_count(_FAKE_RATE, n, len(FAKE_PATTERNS))
    n_brand = _injected_count(_BRAND_ACCOUNT_RATE, n, 1)
    n_stuffed = _injected_count(_STUFFED_RATE, n, 1)
    fake_idx = np.sort(order[:n_fake])
    brand_idx = np.sort(order[n_fake:n_fake + n_brand])
    rest = np.setdiff1d(np.arange(n), np.concatenate([fake_idx, brand_idx]))
    stuffed_idx = _choose(rng, rest, n_stuffed)

    pattern = np.full(n, -1, dtype=np.int64)
    pattern[fake_idx] = np.arange(len(fake_idx)) % len(FAKE_PATTERNS)
    is_brand = np.zeros(n, dtype=bool)
    is_brand[brand_idx] = True

    # Posts per creator (burst fakes need enough posts to show a burst).
    n_posts = rng.integers(lo, hi + 1, n)
    burst = pattern == 3
    n_posts[burst] = np.maximum(n_posts[burst], min(hi, 6))

    # Engagement model per creator.
    u_er = rng.random(n)
    comment_ratio = rng.uniform(0.02, 0.05, n)
    following_draw = np.rint(np.exp(rng.normal(math.log(600), 0.8, n))).astype(np.int64)
    brand_f = np.rint(10 ** rng.normal(4.6, 0.5, n)).astype(np.int64)
    true_f[is_brand] = brand_f[is_brand]

    shown_f = true_f.copy()
    bf = pattern == 0
    # bought_followers: start from a nano/micro audience and inflate it 8-30x.
    base_bf = np.rint(10 ** rng.uniform(3.3, 4.6, n)).astype(np.int64)
    shown_f[bf] = np.rint(base_bf[bf] * rng.uniform(8, 30, n)[bf]).astype(np.int64)
    true_f[bf] = shown_f[bf]
    mf = pattern == 2
    mf_followers = np.rint(10 ** rng.uniform(math.log10(600), math.log10(6000), n)).astype(np.int64)
    shown_f[mf] = mf_followers[mf]
    true_f[mf] = mf_followers[mf]

    tier_idx = np.searchsorted(_TIER_EDGES, shown_f, side="right")
    er = _ER_LO[tier_idx] + u_er * (_ER_HI[tier_idx] - _ER_LO[tier_idx])
    er[bf] = _ER_MEDIAN[tier_idx[bf]] * rng.uniform(0.05, 0.2, n)[bf]
    be = pattern == 1
    er[be] = _ER_MEDIAN[tier_idx[be]] * rng.uniform(4.0, 10.0, n)[be]
    comment_ratio[be] = rng.uniform(0.0005, 0.003, n)[be]
    er[mf] *= rng.uniform(0.7, 1.0, n)[mf]
    er[is_brand] *= rng.uniform(0.75, 1.0, n)[is_brand]

    # Following: ordinary accounts follow fewer people than follow them (once in the thousands).
    following = following_draw.copy()
    big = shown_f >= 1112
    following[big] = np.minimum(following[big], np.rint(0.9 * shown_f[big]).astype(np.int64))
    following[~big] = np.minimum(following[~big], 999)
    following = np.maximum(following, 12)
    following[is_brand] = np.minimum(following[is_brand], rng.integers(20, 400, n)[is_brand])
    mf_following = np.maximum(
        np.rint(shown_f * rng.uniform(1.2, 2.5, n)), rng.integers(1500, 4000, n)
    ).astype(np.int64)
    following[mf] = np.minimum(mf_following[mf], 7500)

    # YouTube-style exports: no following, and about 30% lack followers too.
    youtube = platform == 2
    blank_f = youtube & (rng.random(n) < _YOUTUBE_BLANK_FOLLOWERS) & (pattern < 0) & ~is_brand

    # Sponsorship habits: a third never post sponsored content; a few are careless.
    sponsor_rate = np.where(rng.random(n) < 0.35, 0.0, rng.uniform(0.06, 0.24, n))
    sponsor_rate[is_brand] = 0.0
    careless = (rng.random(n) < 0.10) & (sponsor_rate > 0)
    view_mult = np.select(
        [platform == 1, platform == 2], [rng.uniform(5, 25, n), rng.uniform(15, 40, n)],
        rng.uniform(5, 15, n),
    )
    share_ratio = rng.uniform(0.01, 0.10, n)

    # Text fields (seeded ``random.Random``; a Python loop over creators).
    ids = [f"c{i + 1:06d}" for i in range(n)]
    handles: list[str] = []
    bios: list[str] = []
    brand_names: list[str] = []
    seen_handles: dict[str, int] = {}
    stuffed_niche: list[str] = [""] * n
    stuffed_set = set(stuffed_idx.tolist())
    for i in range(n):
        data = _NICHE_DATA[NICHES[niche[i]]]
        ccode = _COUNTRIES[country_idx[i]][0]
        if is_brand[i]:
            for attempt in range(12):
                name = f"{rnd.choice(data['brand_words'])} {rnd.choice(_BRAND_SUFFIXES)}"
                if attempt >= 8:
                    name = f"{name} {ccode}"
                if f"{_slug(name)}_official" not in seen_handles:
                    break
            handle, suffix = f"{_slug(name)}_official", 1
            while handle in seen_handles:
                suffix += 1
                handle = f"{_slug(name)}{suffix}_official"
            seen_handles[handle] = 1
            product = rnd.choice(data["product"])
            bio = rnd.choice(_BRAND_BIOS).format(name=name, product_cap=_cap(product))
            brand_names.append(name)
        else:
            style = rnd.choice(_HANDLE_STYLES)
            handle = _unique_handle(
                style.format(w=rnd.choice(data["handle_words"]), n=rnd.choice(_FIRST_NAMES)), seen_handles
            )
            bio = _bio(rnd, data, ccode)
            brand_names.append("")
        if i in stuffed_set:
            other = (int(niche[i]) + rnd.randrange(1, k)) % k
            stuffed_niche[i] = NICHES[other]
            words = _NICHE_DATA[NICHES[other]]["keywords"]
            bio = " ".join(rnd.choice(words) for _ in range(rnd.randint(12, 20)))
        handles.append(handle)
        bios.append(bio)

    if bad_rows:
        # One valid creator whose bio needs normalisation: HTML tags, zero-width and bidi marks.
        j = _html_bio_target(n, pattern, is_brand, stuffed_set)
        if j is not None:
            data = _NICHE_DATA[NICHES[niche[j]]]
            bios[j] = (
                f"<p><b>{rnd.choice(data['roles'])}</b>\u200b {rnd.choice(data['bio_phrases'])}"
                f"<br/>\u202e{rnd.choice(data['emoji'])}\u202c \u2066DMs open\u2069\ufeff</p>"
            )

    languages = []
    for i in range(n):
        lang = "en"
        acc = 0.0
        for code, share in _COUNTRIES[country_idx[i]][2]:
            acc += share
            if lang_u[i] < acc:
                lang = code
                break
        languages.append(lang)

    followers_out: list[Any] = [None if blank_f[i] else int(shown_f[i]) for i in range(n)]
    following_out: list[Any] = [None if youtube[i] else int(following[i]) for i in range(n)]
    creators: dict[str, list[Any]] = {
        "creator_id": ids,
        "handle": handles,
        "platform": [_PLATFORMS[p] for p in platform],
        "bio": bios,
        "followers": followers_out,
        "following": following_out,
        "country": [_COUNTRIES[c][0] for c in country_idx],
        "language": languages,
    }
    labels: dict[str, list[Any]] = {
        "creator_id": list(ids),
        "niche": [NICHES[x] for x in niche],
        "tier": [tier_of(f) for f in followers_out],
        "is_fake": [int(p >= 0) for p in pattern],
        "fake_pattern": [FAKE_PATTERNS[p] if p >= 0 else "" for p in pattern],
        "is_brand_account": [int(b) for b in is_brand],
        "stuffed_bio_niche": stuffed_niche,
        "has_undisclosed_sponsorship": [0] * n,
    }
    plan = {
        "niche": niche, "platform": platform, "true_f": true_f, "er": er,
        "comment_ratio": comment_ratio, "n_posts": n_posts, "pattern": pattern,
        "is_brand": is_brand, "brand_names": brand_names, "sponsor_rate": sponsor_rate,
        "careless": careless, "view_mult": view_mult, "share_ratio": share_ratio,
    }
    return creators, labels, plan


def _unique_handle(handle: str, seen: dict[str, int]) -> str:
    if handle not in seen:
        seen[handle] = 1
        return handle
    while True:
        seen[handle] += 1
        candidate = f"{handle}{seen[handle]}"
        if candidate not in seen:
            seen[candidate] = 1
            return candidate


def _bio(rnd: random.Random, data: dict[str, Any], country: str) -> str:
    role = rnd.choice(data["roles"])
    role2 = rnd.choice(data["roles"])
    for _ in range(3):
        if role2 != role:
            break
        role2 = rnd.choice(data["roles"])
    phrase = rnd.choice(data["bio_phrases"])
    bio = rnd.choice(_BIO_TEMPLATES).format(
        Role=role, role2=_lower_first(role2), phrase=phrase, Phrase=_cap(phrase),
        city=rnd.choice(_CITIES[country]), emoji=rnd.choice(data["emoji"]),
    )
    return bio


def _html_bio_target(n: int, pattern: np.ndarray, is_brand: np.ndarray, stuffed: set[int]) -> int | None:
    for j in range(n - 1, -1, -1):
        if pattern[j] < 0 and not is_brand[j] and j not in stuffed:
            return j
    return None


# --------------------------------------------------------------------------------------
# Posts
# --------------------------------------------------------------------------------------


def _make_posts(
    rng: np.random.Generator, rnd: random.Random, maker: _TextMaker,
    creators: dict[str, list[Any]], plan: dict[str, Any],
) -> tuple[dict[str, list[Any]], list[bool]]:
    n = len(creators["creator_id"])
    counts = plan["n_posts"]
    total = int(counts.sum())
    owner = np.repeat(np.arange(n), counts)

    # Dates: uniform over the window, whole minutes, newest first within each creator.
    offset = rng.integers(60, WINDOW_DAYS * 86400 - 60, total)
    ts = _REFERENCE_EPOCH - offset
    ts -= ts % 60
    order = np.lexsort((-ts, owner))
    ts = ts[order]
    epoch_form = rng.random(total) < 0.10
    iso = np.datetime_as_string(ts.astype("datetime64[s]"), unit="s")

    platform = plan["platform"][owner]
    is_brand = plan["is_brand"][owner]
    pattern = plan["pattern"][owner]

    # Sponsorship per post: 0 none, 1 early disclosure, 2 late/vague, 3 undisclosed.
    sponsored = rng.random(total) < plan["sponsor_rate"][owner]
    careless = plan["careless"][owner]
    mode_u = rng.random(total)
    mode = np.where(mode_u < 0.70, 1, 2)
    mode = np.where(careless & (mode_u < 0.55), 3, mode)
    mode = np.where(sponsored, mode, 0)
    # Every careless creator with sponsored posts has at least one undisclosed one.
    first_sp = {}
    for idx in np.flatnonzero(sponsored & careless):
        first_sp.setdefault(int(owner[idx]), int(idx))
    has3 = np.zeros(n, dtype=bool)
    np.logical_or.at(has3, owner[mode == 3], True)
    for c, idx in first_sp.items():
        if not has3[c]:
            mode[idx] = 3
    generic = (rng.random(total) < _GENERIC_CAPTION_RATE) & (mode == 0) & ~is_brand

    # Engagement.
    noise = np.exp(rng.normal(0.0, 0.3, total))
    eng = plan["true_f"][owner] * plan["er"][owner] * noise
    eng = np.where(mode > 0, eng * 0.85, eng)
    cr = plan["comment_ratio"][owner]
    likes_base = np.rint(eng / (1.0 + cr)).astype(np.int64)
    likes = likes_base.copy()
    # engagement_burst: a few ordinary posts (2-4, at most a quarter of the account's posts)
    # get 10-50x the account's median likes.
    burst = np.zeros(total, dtype=bool)
    for c in np.flatnonzero(plan["pattern"] == 3):
        mine = owner == c
        idx = np.flatnonzero(mine & (mode == 0))
        size = min(int(rng.integers(2, 5)), max(1, int(mine.sum()) // 4), len(idx))
        if size == 0:
            continue
        pick = rng.choice(idx, size=size, replace=False)
        usual = max(float(np.median(likes_base[mine])), 1.0)
        likes[pick] = np.rint(usual * rng.uniform(10, 50, size)).astype(np.int64)
        burst[pick] = True
    comments = rng.poisson(likes_base * cr * np.exp(rng.normal(0.0, 0.2, total)))
    comments = np.where(burst, comments * rng.integers(1, 4, total), comments)
    views = np.rint(likes_base * plan["view_mult"][owner] * np.exp(rng.normal(0.0, 0.2, total)))
    views = np.maximum(views, likes).astype(np.int64)
    has_views = (platform != 0) | (rng.random(total) < 0.15)
    shares = rng.poisson(likes_base * plan["share_ratio"][owner])
    share_p = np.select([platform == 1, platform == 0], [0.9, 0.4], 0.25)
    has_shares = rng.random(total) < share_p
    flag_u = rng.random(total)
    n_tags = rng.integers(1, 6, total)

    # Texts.
    handles = creators["handle"]
    niche = plan["niche"]
    brand_names = plan["brand_names"]
    texts: list[str] = []
    flags: list[Any] = []
    undisclosed = [False] * n
    sponsor_pools = [
        _NICHE_DATA[name]["sponsors"] + [b["name"] for b in _BRAND_CATALOGUE if b["niche"] == name]
        for name in NICHES
    ]
    choice = rnd.choice
    rand = rnd.random
    fix_articles = _ARTICLE_RE.sub
    for i in range(total):
        c = int(owner[i])
        k = int(niche[c])
        data = maker.niches[k][0]
        m = int(mode[i])
        fu = flag_u[i]
        if is_brand[i]:
            name = brand_names[c]
            body = choice(_BRAND_PROMOS).format(
                product=choice(data["product"]), name=name, handle=handles[c],
                pct=choice(("15", "20", "25", "30")),
            )
            tags = [f"#{_slug(name)}", "#newarrivals", "#shopnow"][: 1 + int(n_tags[i]) % 3]
            tags += maker.hashtags(k, min(2, int(n_tags[i])))
            text = f"{body} {' '.join(tags)}"
            flag = False if fu < 0.8 else None
        elif generic[i]:
            body = choice(_GENERIC_CAPTIONS)
            tags = rnd.sample(_GENERIC_HASHTAGS, max(1, int(n_tags[i]) - 1))
            if int(n_tags[i]) > 1:
                tags.append(choice(data["hashtags"]))
            text = f"{body} {' '.join(tags)}"
            flag = False if fu < 0.85 else None
        else:
            body = _end_sentence(maker.caption(k))
            if rand() < 0.35:
                body = f"{body} {choice(_CLOSERS)}"
            elif platform[i] == 2 and rand() < 0.5:
                body = f"{body} {choice(_YOUTUBE_CLOSERS)}"
            if rand() < 0.3:
                body = f"{body} {choice(data['emoji'])}"
            if m == 0:
                tags = maker.hashtags(k, int(n_tags[i]))
                sep = "\n\n" if rand() < 0.15 else " "
                text = f"{body}{sep}{' '.join(tags)}"
                flag = False if fu < 0.85 else None
            else:
                sponsor = choice(sponsor_pools[k])
                product = choice(data["product"])
                tags = maker.hashtags(k, max(1, int(n_tags[i]) - 1))
                if m == 1:
                    lead = choice(_SPONSOR_EARLY).format(sponsor=sponsor, product=product)
                    text = f"{lead} {body} {' '.join(tags)}"
                    flag = True if fu < 0.95 else None
                elif m == 2:
                    tail = choice(_SPONSOR_LATE).format(sponsor=sponsor, product=product)
                    text = f"{body} {' '.join(tags)} {tail}"
                    flag = True if fu < 0.4 else (False if fu < 0.7 else None)
                else:
                    code = f"{choice(data['handle_words']).upper()}{choice(('10', '15', '20', '25'))}"
                    tail = choice(_SPONSOR_HIDDEN).format(
                        sponsor=sponsor, product=product, code=code, sponsor_slug=_slug(sponsor, "-"),
                        product_slug=_slug(product, "-"), ref=_slug(handles[c]),
                    )
                    text = f"{body} {tail} {' '.join(tags)}"
                    flag = None if fu < 0.6 else False
                    undisclosed[c] = True
        texts.append(fix_articles(r"\1n ", text))
        flags.append(flag)

    posted_at: list[Any] = [
        int(ts[i]) if epoch_form[i] else f"{iso[i]}Z" for i in range(total)
    ]
    # Kept for the comments, which are drawn later from a separate random stream.
    plan["post_owner"] = owner
    plan["post_ts"] = ts
    plan["post_comments"] = comments.astype(np.int64)
    cid = creators["creator_id"]
    posts: dict[str, list[Any]] = {
        "post_id": [f"p{i + 1:07d}" for i in range(total)],
        "creator_id": [cid[c] for c in owner.tolist()],
        "text": texts,
        "posted_at": posted_at,
        "likes": likes.tolist(),
        "comments": comments.astype(np.int64).tolist(),
        "views": [v if h else None for v, h in zip(views.tolist(), has_views.tolist())],
        "shares": [s if h else None for s, h in zip(shares.tolist(), has_shares.tolist())],
        "sponsored": flags,
    }
    return posts, undisclosed


# --------------------------------------------------------------------------------------
# Brands
# --------------------------------------------------------------------------------------


def _make_brands(
    rng: np.random.Generator, n_brands: int, creators: dict[str, list[Any]], plan: dict[str, Any]
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    cols: dict[str, list[Any]] = {c: [] for c in _BRAND_COLUMNS}
    blabels: dict[str, list[Any]] = {c: [] for c in _BRAND_LABEL_COLUMNS}
    ordinary = (plan["pattern"] < 0) & ~plan["is_brand"]
    ids = creators["creator_id"]
    size = len(_BRAND_CATALOGUE)
    for b in range(n_brands):
        entry = _BRAND_CATALOGUE[b % size]
        name = entry["name"]
        description = entry["description"]
        if b >= size:
            suffix = _BRAND_VARIANT_SUFFIXES[(b // size - 1) % len(_BRAND_VARIANT_SUFFIXES)]
            generation = (b // size - 1) // len(_BRAND_VARIANT_SUFFIXES)
            new_name = f"{name} {suffix}" + (f" {generation + 2}" if generation else "")
            description = description.replace(name, new_name)
            name = new_name
        exclude: list[str] = []
        if entry.get("exclude") and b < size:
            pool = np.flatnonzero(ordinary & (plan["niche"] == NICHES.index(entry["niche"])))
            exclude = [ids[j] for j in _choose(rng, pool, int(entry["exclude"]))]
        cols["brand_id"].append(f"b{b + 1:03d}")
        cols["name"].append(name)
        cols["description"].append(description)
        cols["countries"].append("|".join(entry["countries"]) if "countries" in entry else None)
        cols["languages"].append("|".join(entry["languages"]) if "languages" in entry else None)
        cols["min_followers"].append(entry.get("min_followers"))
        cols["max_followers"].append(entry.get("max_followers"))
        competitors = [x for x in entry.get("competitors", []) if x != name]
        cols["competitors"].append("|".join(competitors) if competitors else None)
        cols["exclude_creators"].append("|".join(exclude) if exclude else None)
        blabels["brand_id"].append(f"b{b + 1:03d}")
        blabels["niche"].append(entry["niche"])
    return cols, blabels


# --------------------------------------------------------------------------------------
# Conversations: who comments, what they write, whether the creator answers
# --------------------------------------------------------------------------------------

# Text kinds of a comment row; each (group, kind) has its own pool of texts. The answer
# pools are aligned with the question pools: answer i answers question i.
(_K_QUESTION, _K_QUESTION_TPL, _K_REMARK, _K_REMARK_TPL, _K_GENERIC, _K_BOT, _K_POD, _K_ANSWER,
 _K_ANSWER_TPL, _K_ANSWER_ANY) = range(10)
_N_KINDS = 10


def _expand(templates: Sequence[str], products: Sequence[str]) -> list[str]:
    out: list[str] = []
    for template in templates:
        if "{product}" in template:
            out.extend(template.format(product=p) for p in products)
        else:
            out.append(template)
    return out


@functools.lru_cache(maxsize=1)
def _comment_pools() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every comment text in one array with the start and size of each (group, kind).

    Groups ``0..K-1`` are the creators of niche k, groups ``K..2K-1`` brand accounts of
    niche k.
    """
    k = len(NICHES)
    texts: list[str] = []
    start = np.zeros((2 * k, _N_KINDS), dtype=np.int64)
    size = np.zeros((2 * k, _N_KINDS), dtype=np.int64)
    for g in range(2 * k):
        name = NICHES[g % k]
        products = _NICHE_DATA[name]["product"]
        if g < k:
            pairs, templates = _CONVERSATION[name]["questions"], _QUESTION_TEMPLATES
            remarks, remark_templates = _CONVERSATION[name]["remarks"], _REMARK_TEMPLATES
            any_answers = _ANY_ANSWERS
        else:
            pairs = [p for p in _BRAND_QUESTIONS if "{" not in p[0]]
            templates = [p for p in _BRAND_QUESTIONS if "{" in p[0]]
            remarks = [r for r in _BRAND_REMARKS if "{" not in r]
            remark_templates = [r for r in _BRAND_REMARKS if "{" in r]
            any_answers = _BRAND_ANY_ANSWERS
        pools = {
            _K_QUESTION: [q for q, _ in pairs],
            _K_QUESTION_TPL: _expand([q for q, _ in templates], products),
            _K_REMARK: remarks,
            _K_REMARK_TPL: _expand(remark_templates, products),
            _K_GENERIC: _GENERIC_COMMENTS,
            _K_BOT: _BOT_COMMENTS,
            _K_POD: _POD_COMMENTS,
            _K_ANSWER: [a for _, a in pairs],
            _K_ANSWER_TPL: _expand([a for _, a in templates], products),
            _K_ANSWER_ANY: any_answers,
        }
        for kind, pool in pools.items():
            start[g, kind] = len(texts)
            size[g, kind] = len(pool)
            texts.extend(pool)
    return np.array(texts, dtype=object), start, size


def _pick_texts(
    rng: np.random.Generator, group: np.ndarray, kind: np.ndarray, offset: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return a random text of each row's (group, kind), or the one at ``offset``, and the offsets."""
    pool, start, size = _comment_pools()
    if offset is None:
        offset = (rng.random(len(group)) * size[group, kind]).astype(np.int64)
    return pool[start[group, kind] + offset], offset


def _rank_within(mask: np.ndarray, first_row: np.ndarray) -> np.ndarray:
    """For rows grouped contiguously by post, the rank of each masked row among the masked
    rows of its post (``first_row``: index of the post's first row, per row)."""
    before = np.cumsum(mask) - mask
    return before - before[first_row]


def _plan_conversations(
    rng: np.random.Generator, n: int, plan: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Draw each creator's comment section: audience, question share, answering habit, pod."""
    pattern = plan["pattern"]
    is_brand = plan["is_brand"]
    niche = plan["niche"]
    ordinary = (pattern < 0) & ~is_brand

    # Answering questions: half of the ordinary creators answer most questions within hours,
    # the rest (and every brand account and fake) few questions, days later.
    high = ordinary & (rng.random(n) < _HIGH_ANSWER_SHARE)
    p_answer = np.where(high, rng.uniform(0.60, 0.95, n), rng.uniform(0.0, 0.20, n))
    reply_lo = np.where(high, 0.5, 24.0) * 3600.0
    reply_hi = np.where(high, 12.0, 96.0) * 3600.0

    # Audience mix per creator: share of questions, share of generic comments among the
    # rest, share of comments from a handful of loyal regulars (the others are one-offs).
    q_share = rng.uniform(0.15, 0.35, n)
    gen_share = rng.uniform(0.25, 0.55, n)
    reg_share = rng.uniform(0.20, 0.50, n)
    weak = (pattern == 0) | (pattern == 2)  # bought followers, mass following
    q_share[weak] = rng.uniform(0.05, 0.15, n)[weak]
    gen_share[weak] = rng.uniform(0.50, 0.70, n)[weak]
    reg_share[weak] = rng.uniform(0.05, 0.15, n)[weak]
    bots = pattern == 1  # bought engagement: generic praise from one-off accounts
    q_share[bots] = 0.01
    gen_share[bots] = rng.uniform(0.90, 0.98, n)[bots]
    reg_share[bots] = 0.0
    q_share[is_brand] = rng.uniform(0.25, 0.45, n)[is_brand]
    n_regulars = rng.integers(3, 9, n)
    regulars = rng.integers(1, _AUDIENCE_IDS, (n, 8))

    # Engagement pods: groups of 8-12 ordinary creators (of one niche where it has enough)
    # whose posts get most of their comments from the pod's few shared accounts.
    pod_of = np.full(n, -1, dtype=np.int64)
    n_ordinary = int(ordinary.sum())
    n_pods = max(1, round(_POD_RATE * n_ordinary / 10)) if n_ordinary >= 100 else 0
    sizes = rng.integers(8, 13, max(n_pods, 1))
    free = ordinary.copy()
    for p in range(n_pods):
        pool = np.flatnonzero(free & (niche == int(rng.integers(len(NICHES)))))
        if len(pool) < sizes[p]:
            pool = np.flatnonzero(free)
        members = _choose(rng, pool, int(sizes[p]))
        pod_of[members] = p
        free[members] = False
    pod_size = rng.integers(6, 10, max(n_pods, 1))
    pod_ids = rng.integers(1, _AUDIENCE_IDS, (max(n_pods, 1), 9))
    pod_share = np.where(pod_of >= 0, rng.uniform(0.75, 0.90, n), 0.0)
    return {
        "high": high, "p_answer": p_answer, "reply_lo": reply_lo, "reply_hi": reply_hi,
        "q_share": q_share, "gen_share": gen_share, "reg_share": reg_share, "bots": bots,
        "n_regulars": n_regulars, "regulars": regulars, "pod_of": pod_of, "pod_size": pod_size,
        "pod_ids": pod_ids, "pod_share": pod_share,
    }


def _make_comments(
    rng: np.random.Generator, plan: dict[str, Any], talk: dict[str, np.ndarray],
    creators: dict[str, list[Any]], posts: dict[str, list[Any]],
) -> dict[str, list[Any]]:
    owner = plan["post_owner"]
    post_ts = plan["post_ts"]
    total = plan["post_comments"]
    n_posts = len(owner)
    k = len(NICHES)

    # A sample of 2-10 audience comments per post, never more than the post's total.
    size = np.minimum(rng.integers(2, 11, n_posts), total)
    post = np.repeat(np.arange(n_posts), size)
    first_row = (np.cumsum(size) - size)[post]
    r = len(post)
    c = owner[post]
    pod_row = rng.random(r) < talk["pod_share"][c]
    question = ~pod_row & (rng.random(r) < talk["q_share"][c])
    generic = ~pod_row & ~question & (rng.random(r) < talk["gen_share"][c])

    # Minutes to days after the post (pods within the hour), and before the export date.
    limit = (_REFERENCE_EPOCH - post_ts[post]).astype(float)
    delay = np.where(
        pod_row, rng.uniform(60, 3600, r), np.exp(rng.uniform(math.log(120), math.log(4 * 86400), r))
    )
    delay = np.where(delay < limit, delay, limit * rng.uniform(0.05, 0.95, r))
    at = post_ts[post] + delay.astype(np.int64)
    lo, hi = talk["reply_lo"][c], talk["reply_hi"][c]
    reply_at = at + (lo + (hi - lo) * rng.random(r)).astype(np.int64)
    answered = question & (rng.random(r) < talk["p_answer"][c]) & (reply_at <= _REFERENCE_EPOCH)

    # The replies count towards the post's total too: drop audience non-questions (then, if
    # need be, replies) until the sample fits.
    replies = np.bincount(post, weights=answered, minlength=n_posts).astype(np.int64)
    excess = np.maximum(size + replies - total, 0)
    other = ~question
    drop = other & (_rank_within(other, first_row) < excess[post])
    excess_left = np.maximum(excess - np.bincount(post, weights=other, minlength=n_posts).astype(np.int64), 0)
    answered &= ~(_rank_within(answered, first_row) < excess_left[post])

    # Authors: pod rows rotate through the pod's accounts (distinct within a post), the rest
    # are the creator's regulars or one-off accounts.
    pod = np.maximum(talk["pod_of"][c], 0)
    rotation = rng.integers(0, 1 << 30, n_posts)[post] + _rank_within(pod_row, first_row)
    pod_author = talk["pod_ids"][pod, rotation % talk["pod_size"][pod]]
    regular = rng.random(r) < talk["reg_share"][c]
    favourite = (talk["n_regulars"][c] * rng.random(r) ** 2).astype(np.int64)
    author = np.where(
        pod_row,
        pod_author,
        np.where(regular, talk["regulars"][c, favourite], rng.integers(1, _AUDIENCE_IDS, r)),
    )

    # Texts.
    group = np.where(plan["is_brand"][c], k + plan["niche"][c], plan["niche"][c])
    coin = rng.random(r) < 0.5
    kind = np.select(
        [pod_row, question & coin, question, generic & talk["bots"][c], generic, coin],
        [_K_POD, _K_QUESTION, _K_QUESTION_TPL, _K_BOT, _K_GENERIC, _K_REMARK],
        _K_REMARK_TPL,
    )
    texts, offset = _pick_texts(rng, group, kind)
    # Most replies answer the very question; some fit any question.
    asked = np.flatnonzero(answered)
    vague = rng.random(len(asked)) < 0.2
    answers, _ = _pick_texts(
        rng,
        group[asked],
        np.where(kind[asked] == _K_QUESTION, _K_ANSWER, _K_ANSWER_TPL),
        offset[asked],
    )
    vague_answers, _ = _pick_texts(rng, group[asked], np.full(len(asked), _K_ANSWER_ANY))
    answers = np.where(vague, vague_answers, answers)

    keep = np.flatnonzero(~drop)
    ids = np.array(creators["creator_id"][: len(plan["niche"])], dtype=object)
    row_post = np.concatenate([post[keep], post[asked]])
    row_at = np.concatenate([at[keep], reply_at[asked]])
    is_reply = np.concatenate([np.zeros(len(keep), dtype=bool), np.ones(len(asked), dtype=bool)])
    row_author = np.concatenate([author[keep], author[asked]])  # for a reply: whom it answers
    row_owner = np.concatenate([c[keep], c[asked]])
    bodies = np.concatenate([texts[keep], answers])
    del post, c, at, reply_at, author, texts, delay, limit, lo, hi, offset, drop
    order = np.lexsort((is_reply, row_at, row_post))
    m = len(order)
    row_at, is_reply, row_author = row_at[order], is_reply[order], row_author[order]
    epoch_form = rng.random(m) < 0.10
    blank_flag = rng.random(m) < _BLANK_REPLY_FLAG
    created: list[Any] = np.datetime_as_string(
        row_at.astype("datetime64[s]"), unit="s", timezone="UTC"
    ).tolist()
    for i in np.flatnonzero(epoch_form).tolist():
        created[i] = int(row_at[i])
    reply_rows = np.flatnonzero(is_reply)
    authors = [f"u{a:07d}" for a in row_author.tolist()]
    texts_out = bodies[order].tolist()
    owners = ids[row_owner[order]]
    for i in reply_rows.tolist():
        texts_out[i] = f"@{authors[i]} {texts_out[i]}"
        authors[i] = owners[i]
    flags: list[Any] = is_reply.tolist()
    for i in np.flatnonzero(blank_flag).tolist():
        flags[i] = None
    post_ids = np.array(posts["post_id"][:n_posts], dtype=object)
    return {
        "comment_id": [f"cm{i + 1:08d}" for i in range(m)],
        "post_id": post_ids[row_post[order]].tolist(),
        "author_id": authors,
        "text": texts_out,
        "created_at": created,
        "is_creator_reply": flags,
    }


# --------------------------------------------------------------------------------------
# Outcomes of past campaigns
# --------------------------------------------------------------------------------------

# Conversion multipliers of the outcome model (see the module docstring).
_OUTCOME_SCALE = 25.0
_OFF_NICHE_FIT = 0.15
_FAKE_GENUINENESS = (0.10, 0.15, 0.25, 0.35)  # in FAKE_PATTERNS order
_POD_GENUINENESS = 0.45
_UNDISCLOSED_FACTOR = 0.70
_RESPONSIVE_FACTOR = 1.20
_OUTCOME_NOISE = 0.5


def _make_outcomes(
    rng: np.random.Generator, plan: dict[str, Any], talk: dict[str, np.ndarray],
    labels: dict[str, list[Any]], brand_labels: dict[str, list[Any]],
) -> dict[str, list[Any]]:
    niche = plan["niche"]
    pattern = plan["pattern"]
    n = len(niche)
    tier_idx = np.searchsorted(_TIER_EDGES, plan["true_f"], side="right")
    level = np.clip(plan["er"] / _ER_MEDIAN[tier_idx], 0.5, 1.5) ** 2
    genuine = np.ones(n)
    for p, factor in enumerate(_FAKE_GENUINENESS):
        genuine[pattern == p] = factor
    genuine[talk["pod_of"] >= 0] = _POD_GENUINENESS
    honest = np.where(
        np.array(labels["has_undisclosed_sponsorship"], dtype=bool), _UNDISCLOSED_FACTOR, 1.0
    )
    quality = level * genuine * honest * np.where(talk["high"], _RESPONSIVE_FACTOR, 1.0)
    candidates = ~plan["is_brand"]
    reference_day = np.datetime64(REFERENCE_DATE[:10], "D")
    ids = labels["creator_id"]
    out: dict[str, list[Any]] = {c: [] for c in _OUTCOME_COLUMNS}
    for b, brand_id in enumerate(brand_labels["brand_id"]):
        home = NICHES.index(brand_labels["niche"][b])
        count = int(rng.integers(36, 45))
        same = _choose(rng, np.flatnonzero(candidates & (niche == home)), count // 2)
        rest = candidates.copy()
        rest[same] = False
        chosen = np.sort(np.concatenate([same, _choose(rng, np.flatnonzero(rest), count - len(same))]))
        fit = np.where(niche[chosen] == home, 1.0, _OFF_NICHE_FIT)
        base = _OUTCOME_SCALE * fit * quality[chosen]
        m = len(chosen)
        days = rng.integers(1, WINDOW_DAYS, m)
        again = rng.random(m) < 0.10
        days_again = 1 + (days - 1 + rng.integers(7, 60, m)) % (WINDOW_DAYS - 1)
        blank_date = (rng.random(m) < 0.05) & ~again
        noise = np.exp(rng.normal(0.0, _OUTCOME_NOISE, (2, m)))
        dates = np.datetime_as_string(reference_day - days, unit="D")
        dates_again = np.datetime_as_string(reference_day - days_again, unit="D")
        for j in range(m):
            rows = [(dates[j] if not blank_date[j] else None, noise[0, j])]
            if again[j]:
                rows.append((dates_again[j], noise[1, j]))
            for day, eps in rows:
                out["brand_id"].append(brand_id)
                out["creator_id"].append(ids[chosen[j]])
                out["outcome"].append(round(float(base[j] * eps), 1))
                out["date"].append(str(day) if day is not None else None)
    return out


# --------------------------------------------------------------------------------------
# Deliberately bad rows
# --------------------------------------------------------------------------------------


def _append(table: dict[str, list[Any]], row: dict[str, Any]) -> None:
    for column, values in table.items():
        values.append(row.get(column))


def _add_bad_creators(creators: dict[str, list[Any]], n: int) -> None:
    def template(i: int) -> dict[str, Any]:
        return {c: creators[c][i] for c in creators}

    row = template(0)
    row.update(creator_id=None, handle="no_id_account")
    _append(creators, row)                                   # missing creator_id
    row = template(min(1, n - 1))
    row.update(creator_id=creators["creator_id"][0], handle="duplicate_id_account")
    _append(creators, row)                                   # duplicate creator_id
    row = template(min(2, n - 1))
    row.update(creator_id=f"c{n + 1:06d}", handle="negative_followers", platform="instagram",
               followers=-3, following=150)
    _append(creators, row)                                   # negative followers
    row = template(min(3, n - 1))
    row.update(creator_id=f"c{n + 2:06d}", handle="text_followers", platform="tiktok",
               followers="12k!", following=300)
    _append(creators, row)                                   # non-numeric followers


def _add_bad_posts(posts: dict[str, list[Any]], creators: dict[str, list[Any]], n: int) -> None:
    total = len(posts["post_id"])
    if total == 0:
        base = {
            "post_id": "p0000001", "creator_id": creators["creator_id"][0],
            "text": "Sunday reset: coffee, clean sheets and planning the week #sundayreset",
            "posted_at": "2026-10-03T14:22:00Z", "likes": 10, "comments": 1, "views": None,
            "shares": None, "sponsored": False,
        }
        first_id = None
    else:
        base = {c: posts[c][0] for c in posts}
        first_id = posts["post_id"][0]

    def row(suffix: int, **changes: Any) -> dict[str, Any]:
        r = dict(base)
        r["post_id"] = f"p{total + suffix:07d}"
        r.update(changes)
        return r

    _append(posts, row(1, post_id=None))                                   # missing post_id
    _append(posts, row(2, post_id=first_id or f"p{total + 1:07d}"))        # duplicate post_id
    if first_id is None:
        _append(posts, row(3, post_id=f"p{total + 1:07d}"))
    _append(posts, row(4, creator_id=f"c{n + 100:06d}"))                   # unknown creator
    _append(posts, row(5, posted_at="yesterday"))                          # unparseable date
    _append(posts, row(6, likes=-5))                                       # negative likes


def _add_bad_brands(brands: dict[str, list[Any]], n_brands: int) -> None:
    _append(brands, {
        "brand_id": f"b{n_brands + 1:03d}", "name": "Northwind Outdoor", "description": "",
    })                                                                     # blank description
    _append(brands, {
        "brand_id": "b001", "name": "Copycat Goods",
        "description": (
            "Copycat Goods sells a stainless steel water bottle that keeps drinks cold for 24 "
            "hours."
        ),
    })                                                                     # duplicate brand_id


def _add_bad_comments(comments: dict[str, list[Any]], post_ids: Sequence[str]) -> None:
    if comments["comment_id"]:
        base = {c: comments[c][0] for c in comments}
    else:
        base = {
            "comment_id": "cm00000001", "post_id": post_ids[0] if post_ids else "p0000001",
            "author_id": "u0000001", "text": "nice pic", "created_at": "2026-10-03T14:22:00Z",
            "is_creator_reply": None,
        }
    m = len(comments["comment_id"])

    def row(suffix: int, **changes: Any) -> dict[str, Any]:
        r = dict(base)
        r["comment_id"] = f"cm{m + suffix:08d}"
        r.update(changes)
        return r

    _append(comments, row(1, comment_id=None))                              # missing comment_id
    _append(comments, row(2, comment_id=base["comment_id"]))                # duplicate comment_id
    _append(comments, row(3, post_id=f"p{len(post_ids) + 100:07d}"))        # unknown post
    _append(comments, row(4, created_at="soon"))                            # unparseable date
    _append(comments, row(5, is_creator_reply="maybe"))                     # not a flag


def _add_bad_outcomes(outcomes: dict[str, list[Any]], creator_ids: Sequence[str]) -> None:
    if outcomes["brand_id"]:
        base = {c: outcomes[c][0] for c in outcomes}
    else:
        base = {"brand_id": "b001", "creator_id": creator_ids[0], "outcome": 12.5, "date": "2026-09-01"}
    _append(outcomes, dict(base, brand_id=None))                           # missing brand_id
    _append(outcomes, dict(base, outcome=-4.0, date="2026-06-01"))         # negative outcome
    _append(outcomes, dict(base, outcome="lots", date="2026-06-02"))       # not a number
    _append(outcomes, dict(base))                                           # duplicate key


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _csv_flags(values: list[Any]) -> list[Any]:
    if bool not in set(map(type, values)):
        return values
    return [_csv_cell(v) if type(v) is bool else v for v in values]


def _write_table(path: Path, columns: Sequence[str], table: dict[str, list[Any]], fmt: str) -> None:
    data = [table[c] for c in columns]
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(columns)
            # The csv module writes None as "" and other values with str(), like _csv_cell;
            # only flags need converting. Streaming rows keeps memory flat for big tables.
            writer.writerows(zip(*[_csv_flags(values) for values in data]))
    elif fmt == "jsonl":
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            for row in zip(*data):
                fh.write(dumps(dict(zip(columns, row))))
                fh.write("\n")
    else:
        _write_parquet(path, columns, data)


def _write_parquet(path: Path, columns: Sequence[str], data: list[list[Any]]) -> None:
    import pandas as pd

    frame: dict[str, Any] = {}
    for name, values in zip(columns, data):
        kinds = {type(v) for v in values if v is not None}
        if kinds == {bool}:
            frame[name] = pd.array(values, dtype="boolean")
        elif kinds == {int}:
            frame[name] = pd.array(values, dtype="Int64")
        elif kinds == {float}:
            frame[name] = pd.array(values, dtype="Float64")
        elif kinds <= {str}:
            frame[name] = pd.array(values, dtype=object)
        else:  # mixed numbers and text: keep the text, write every value as text
            frame[name] = pd.array([None if v is None else _csv_cell(v) for v in values], dtype=object)
    try:
        pd.DataFrame(frame).to_parquet(path, index=False, engine="pyarrow")
    except ImportError as exc:
        raise ConfigError(
            f"fmt='parquet' needs the pyarrow package ({exc}); install pyarrow or use fmt='csv'"
        ) from None


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m matcher.sample --out DIR [options]``.

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        Process exit status (0 on success, 2 on a bad argument).
    """
    parser = argparse.ArgumentParser(
        prog="python -m matcher.sample",
        description="Write the seeded sample dataset (creators, posts, brands, comments, outcomes, labels).",
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--creators", type=int, default=2000, help="number of creators (default 2000)")
    parser.add_argument("--brands", type=int, default=30, help="number of brands (default 30)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--format", dest="fmt", default="csv", choices=sorted(_FORMATS),
                        help="format of creators/posts/brands (default csv)")
    parser.add_argument("--min-posts", type=int, default=8, help="fewest posts per creator (default 8)")
    parser.add_argument("--max-posts", type=int, default=24, help="most posts per creator (default 24)")
    parser.add_argument("--no-bad-rows", action="store_true", help="do not append invalid rows")
    parser.add_argument("--no-comments", action="store_true", help="do not write the comments file")
    parser.add_argument("--no-outcomes", action="store_true", help="do not write the outcomes file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        info = generate(
            args.out, seed=args.seed, n_creators=args.creators, n_brands=args.brands,
            posts_per_creator=(args.min_posts, args.max_posts), bad_rows=not args.no_bad_rows,
            fmt=args.fmt, comments=not args.no_comments, outcomes=not args.no_outcomes,
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    extra = "".join(
        f", {count} {name}"
        for name, path, count in (
            ("comments", info.comments, info.n_comments), ("outcomes", info.outcomes, info.n_outcomes),
        )
        if path is not None
    )
    print(
        f"wrote {info.n_creators} creators, {info.n_posts} posts, {info.n_brands} brands{extra} "
        f"to {info.directory} in {elapsed:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
