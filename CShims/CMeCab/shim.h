// MeCab's C API (Debian's libmecab-dev). JapaneseText's MeCab.swift is the only user.
#include <mecab.h>
