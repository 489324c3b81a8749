// prostudio-espeak: synthesises one narration with a freshly initialised libespeak-ng.
//
// espeak-ng keeps synthesis state between calls (the same text comes out a few samples longer or
// shorter each time), and it cannot be re-initialised in a process. A fresh process per narration
// makes speech, and so every scene's timing, exactly repeatable; it also keeps espeak's global state
// and any crash in it out of the daemon.
//
// Request on stdin:  "VOICE\nRATE_WPM\nPITCH_0_100\n" then the UTF-8 text to end of input.
// Reply on stdout:   int32 sample_rate, int32 event_count, int32 sample_count,
//                    event_count x {int32 type, int32 text_position, int32 length, int32 audio_ms},
//                    sample_count x int16 samples. Exit 0, or 2 for an unknown voice, 1 otherwise.
//
// Voices mode: "VOICES\n"; reply: one "LANGUAGE\tNAME\tFILE" line per language each voice speaks.
//
// Phonemes mode (the neural voice's phonemizer): "PHONEMES\nVOICE\n" then one clause per line.
// Reply: one line per input line, the clause's IPA from espeak_TextToPhonemes(espeakCHARS_UTF8,
// espeakPHONEMES_IPA), called until the text is consumed, pieces joined with one space (as
// Tools/export/piper_phonemize.py does). The caller splits clauses and keeps punctuation itself:
// Debian's espeak-ng 1.51 has no espeak_TextToPhonemesWithTerminator. Same exit codes.
#include <espeak-ng/speak_lib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int32_t type, text_position, length, audio_ms; } event_t;

static int16_t *samples;
static size_t sample_count, sample_cap;
static event_t *events;
static size_t event_count, event_cap;

static int on_synth(short *wav, int n, espeak_EVENT *ev) {
    if (wav && n > 0) {
        if (sample_count + (size_t)n > sample_cap) {
            sample_cap = (sample_count + (size_t)n) * 2;
            samples = realloc(samples, sample_cap * sizeof(int16_t));
            if (!samples) return 1;
        }
        memcpy(samples + sample_count, wav, (size_t)n * sizeof(int16_t));
        sample_count += (size_t)n;
    }
    for (; ev && ev->type != espeakEVENT_LIST_TERMINATED; ev++) {
        if (ev->type != espeakEVENT_WORD && ev->type != espeakEVENT_SENTENCE) continue;
        if (event_count == event_cap) {
            event_cap = event_cap ? event_cap * 2 : 64;
            events = realloc(events, event_cap * sizeof(event_t));
            if (!events) return 1;
        }
        events[event_count++] = (event_t){ev->type, ev->text_position, ev->length, ev->audio_position};
    }
    return 0;
}

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) return NULL;
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static int phonemes(char *request) {
    char *voice = request, *lines = strchr(request, '\n');
    if (!lines) return 1;
    *lines++ = 0;
    if (espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_DONT_EXIT) <= 0) {
        fprintf(stderr, "espeak-ng could not start (is espeak-ng-data installed?)\n");
        return 1;
    }
    espeak_VOICE spec = {0};
    spec.languages = voice;
    if (espeak_SetVoiceByName(voice) != EE_OK && espeak_SetVoiceByProperties(&spec) != EE_OK) {
        fprintf(stderr, "espeak-ng has no voice \"%s\"\n", voice);
        return 2;
    }
    while (*lines) {
        char *end = strchr(lines, '\n');
        if (end) *end = 0;
        const void *ptr = lines;
        int first = 1;
        while (ptr) {
            const char *piece = espeak_TextToPhonemes(&ptr, espeakCHARS_UTF8, espeakPHONEMES_IPA);
            if (!piece) continue;
            while (*piece == ' ') piece++;
            size_t n = strlen(piece);
            while (n && (piece[n - 1] == ' ' || piece[n - 1] == '\n')) n--;
            if (!n) continue;
            if (!first) fputc(' ', stdout);
            fwrite(piece, 1, n, stdout);
            first = 0;
        }
        fputc('\n', stdout);
        if (!end) break;
        lines = end + 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

// Voices mode ("VOICES\n"): one line per voice and language it speaks, "LANGUAGE\tNAME\tFILE", for validation.
static int voices(void) {
    if (espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_DONT_EXIT) <= 0) {
        fprintf(stderr, "espeak-ng could not start (is espeak-ng-data installed?)\n");
        return 1;
    }
    for (const espeak_VOICE **v = espeak_ListVoices(NULL); v && *v; v++) {
        // languages: a priority byte, then a NUL-terminated name, repeated; an empty name ends the list.
        for (const char *l = (*v)->languages; l && *l; l += strlen(l + 1) + 2) {
            printf("%s\t%s\t%s\n", l + 1, (*v)->name ? (*v)->name : "", (*v)->identifier ? (*v)->identifier : "");
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(void) {
    size_t len;
    char *input = read_all(stdin, &len);
    if (!input) return 1;
    if (strncmp(input, "PHONEMES\n", 9) == 0) return phonemes(input + 9);
    if (strncmp(input, "VOICES\n", 7) == 0) return voices();
    char *voice = input, *rate = strchr(voice, '\n');
    if (!rate) return 1;
    *rate++ = 0;
    char *pitch = strchr(rate, '\n');
    if (!pitch) return 1;
    *pitch++ = 0;
    char *text = strchr(pitch, '\n');
    if (!text) return 1;
    *text++ = 0;

    int sample_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, NULL, espeakINITIALIZE_DONT_EXIT);
    if (sample_rate <= 0) { fprintf(stderr, "espeak-ng could not start (is espeak-ng-data installed?)\n"); return 1; }
    espeak_SetSynthCallback(on_synth);
    espeak_VOICE spec = {0};
    spec.languages = voice;
    if (espeak_SetVoiceByProperties(&spec) != EE_OK && espeak_SetVoiceByName(voice) != EE_OK) {
        fprintf(stderr, "espeak-ng has no voice \"%s\"\n", voice);
        return 2;
    }
    espeak_SetParameter(espeakRATE, atoi(rate), 0);
    espeak_SetParameter(espeakPITCH, atoi(pitch), 0);
    espeak_SetParameter(espeakVOLUME, 100, 0);
    if (espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL) != EE_OK) {
        fprintf(stderr, "espeak-ng failed to synthesise the text\n");
        return 1;
    }
    int32_t header[3] = {sample_rate, (int32_t)event_count, (int32_t)sample_count};
    if (fwrite(header, sizeof header, 1, stdout) != 1) return 1;
    if (event_count && fwrite(events, sizeof(event_t), event_count, stdout) != event_count) return 1;
    if (sample_count && fwrite(samples, sizeof(int16_t), sample_count, stdout) != sample_count) return 1;
    return fflush(stdout) == 0 ? 0 : 1;
}
