// Thin C layer over FFmpeg 5.1 for Swift: the macros Swift cannot import, as inline functions.
#ifndef PROSTUDIO_CFFMPEG_H
#define PROSTUDIO_CFFMPEG_H
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersrc.h>
#include <libavfilter/buffersink.h>
#include <libavutil/avutil.h>
#include <libavutil/opt.h>
#include <libavutil/imgutils.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/dict.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

static inline int ps_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int ps_averror_eof(void) { return AVERROR_EOF; }
static inline int64_t ps_nopts(void) { return AV_NOPTS_VALUE; }

static inline void ps_err2str(int code, char *buf, size_t size) { av_strerror(code, buf, size); }

// AVFrame.data / linesize arrive in Swift as 8-tuples; hand out plain pointers instead.
static inline uint8_t *ps_frame_data(AVFrame *f, int plane) { return f->data[plane]; }
static inline int ps_frame_linesize(AVFrame *f, int plane) { return f->linesize[plane]; }
static inline uint8_t **ps_frame_data_array(AVFrame *f) { return f->data; }
static inline int *ps_frame_linesize_array(AVFrame *f) { return f->linesize; }

#endif
