#ifndef PROSTUDIO_CESPEAKNG_H
#define PROSTUDIO_CESPEAKNG_H
#include <espeak-ng/speak_lib.h>
#endif
