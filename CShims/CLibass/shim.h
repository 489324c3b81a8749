#pragma once
// libass: the same renderer libavfilter's `ass` filter uses, called directly so captions are blended only where
// and when they show (Sources/Media/CaptionBurner.swift).
#include <ass/ass.h>
