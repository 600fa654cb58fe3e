"""Text into passages and terms: passage cutting, analysis (tokenizing, stemming, stopwords), CJK."""
