"""The emotional network: a sentence encoder plus heads whose outputs respect each range."""
