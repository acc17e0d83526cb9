// Counts the pixels of given colours inside given rectangles of a PNG, for the
// picture-proportion test: the simulator's memory strip must show each state
// with an area equal to its share of memory. Exact colours only (a tolerance
// of 3 per channel absorbs rounding); anti-aliased edges, text and marks count
// as "other".
// Usage: png_shares IMAGE.png --colour RRGGBB... --rect X Y W H...
// Prints one line per colour, "RRGGBB COUNT", then "other COUNT".
#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Rect {
    long x, y, w, h;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(
        stderr,
        "png_shares: %s\nusage: png_shares IMAGE.png --colour RRGGBB... --rect X Y W H...\n", why);
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage("no image");
    }
    std::vector<unsigned> colours;
    std::vector<Rect> rects;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--colour" && i + 1 < argc) {
            colours.push_back(static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 16)));
        } else if (a == "--rect" && i + 4 < argc) {
            Rect r{};
            r.x = std::lround(std::strtod(argv[i + 1], nullptr));
            r.y = std::lround(std::strtod(argv[i + 2], nullptr));
            r.w = std::lround(std::strtod(argv[i + 3], nullptr));
            r.h = std::lround(std::strtod(argv[i + 4], nullptr));
            rects.push_back(r);
            i += 4;
        } else {
            usage(("bad argument '" + a + "'").c_str());
        }
    }
    if (colours.empty() || rects.empty()) {
        usage("give at least one --colour and one --rect");
    }

    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    if (png_image_begin_read_from_file(&image, argv[1]) == 0) {
        std::fprintf(stderr, "png_shares: cannot read '%s': %s\n", argv[1], image.message);
        return 2;
    }
    image.format = PNG_FORMAT_RGB;
    std::vector<unsigned char> pixels(PNG_IMAGE_SIZE(image));
    if (png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr) == 0) {
        std::fprintf(stderr, "png_shares: cannot decode '%s': %s\n", argv[1], image.message);
        return 2;
    }
    const long width = image.width;
    const long height = image.height;

    std::vector<unsigned long> counts(colours.size(), 0);
    unsigned long other = 0;
    const auto near = [](int a, int b) { return std::abs(a - b) <= 3; };
    for (const Rect& r : rects) {
        for (long y = std::max(0L, r.y); y < std::min(height, r.y + r.h); ++y) {
            for (long x = std::max(0L, r.x); x < std::min(width, r.x + r.w); ++x) {
                const unsigned char* p = &pixels[static_cast<std::size_t>((y * width + x) * 3)];
                bool matched = false;
                for (std::size_t c = 0; c < colours.size() && !matched; ++c) {
                    const int red = static_cast<int>((colours[c] >> 16) & 0xff);
                    const int green = static_cast<int>((colours[c] >> 8) & 0xff);
                    const int blue = static_cast<int>(colours[c] & 0xff);
                    if (near(p[0], red) && near(p[1], green) && near(p[2], blue)) {
                        ++counts[c];
                        matched = true;
                    }
                }
                other += matched ? 0 : 1;
            }
        }
    }
    for (std::size_t c = 0; c < colours.size(); ++c) {
        std::printf("%06x %lu\n", colours[c], counts[c]);
    }
    std::printf("other %lu\n", other);
    return 0;
}
