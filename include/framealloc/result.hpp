// Errors as values. Every fallible framealloc call returns a Result<T> (or a
// Status when there is no value): either the value, or an Error carrying a
// machine-readable kind and a human-readable message. No exceptions, no heap.
#pragma once

#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace framealloc {

/// What went wrong. Stable numbering: the C interface exposes these values.
enum class ErrorKind : std::uint8_t {
    kZeroFrames = 1,       ///< A request for zero frames or zero bytes.
    kAddressInUse,         ///< Some requested frame is already allocated.
    kOutsideAllocator,     ///< The address lies in no region this allocator manages.
    kNotEnoughContiguous,  ///< Free memory exists, but no run satisfies the request.
    kOutOfMemory,          ///< Not enough free frames in total.
    kAlreadyInitialized,   ///< init() called twice.
    kNotInitialized,       ///< An operation needs init() first.
    kCapacityExhausted,    ///< No bookkeeping node left (early capacity or heap).
    kBadRegion,            ///< A region is malformed (wraps, overlaps, wrong type).
    kOverflow,             ///< A size or range passes the top of the address space.
    kNotAdjacent,          ///< merge(): the handles are not physically adjacent.
    kOutOfRange,           ///< split: the frame or range is outside the handle.
    kMisaligned,           ///< An address or range is not aligned as required.
    kInvalidArgument,      ///< A parameter is malformed (e.g. alignment not a power of two).
    kRegionBusy,           ///< A region cannot go offline: some of its frames are allocated.
    kHeapUnavailable,      ///< The heap hook returned no memory.
    kForeignHandle,        ///< A handle that does not belong to this allocator.
    kInvariantViolation,   ///< The checker found corrupted bookkeeping (a bug).
};

/// A short, stable name for an error kind ("address in use", ...).
[[nodiscard]] constexpr const char* to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kZeroFrames:
            return "zero frames requested";
        case ErrorKind::kAddressInUse:
            return "address in use";
        case ErrorKind::kOutsideAllocator:
            return "address outside the allocator";
        case ErrorKind::kNotEnoughContiguous:
            return "not enough contiguous frames";
        case ErrorKind::kOutOfMemory:
            return "out of memory";
        case ErrorKind::kAlreadyInitialized:
            return "already initialised";
        case ErrorKind::kNotInitialized:
            return "not initialised";
        case ErrorKind::kCapacityExhausted:
            return "bookkeeping capacity exhausted";
        case ErrorKind::kBadRegion:
            return "bad region";
        case ErrorKind::kOverflow:
            return "range passes the top of the address space";
        case ErrorKind::kNotAdjacent:
            return "frames are not adjacent";
        case ErrorKind::kOutOfRange:
            return "out of range";
        case ErrorKind::kMisaligned:
            return "misaligned";
        case ErrorKind::kInvalidArgument:
            return "invalid argument";
        case ErrorKind::kRegionBusy:
            return "region busy";
        case ErrorKind::kHeapUnavailable:
            return "heap unavailable";
        case ErrorKind::kForeignHandle:
            return "foreign handle";
        case ErrorKind::kInvariantViolation:
            return "invariant violation";
    }
    return "unknown error";
}

/// An error: its kind plus a message naming the specific cause. The message is
/// a string literal with static storage; it never needs freeing.
struct Error {
    ErrorKind kind;
    const char* message;

    friend constexpr bool operator==(const Error& a, const Error& b) { return a.kind == b.kind; }
};

[[nodiscard]] constexpr Error make_error(ErrorKind kind, const char* message) {
    return Error{kind, message};
}

/// Either a T or an Error. T may be move-only (frame handles are).
template <typename T>
class [[nodiscard]] Result {
  public:
    // NOLINTNEXTLINE(google-explicit-constructor): implicit, so `return value;` works.
    constexpr Result(T&& value) : value_(std::move(value)), has_value_(true) {}
    // NOLINTNEXTLINE(google-explicit-constructor)
    constexpr Result(const T& value) requires std::is_copy_constructible_v<T> : value_(value),
                                                                                has_value_(true) {}
    // NOLINTNEXTLINE(google-explicit-constructor)
    constexpr Result(Error error) : error_(error), has_value_(false) {}

    Result(Result&& other) noexcept : has_value_(other.has_value_) {
        if (has_value_) {
            new (&value_) T(std::move(other.value_));
        } else {
            error_ = other.error_;
        }
    }
    Result& operator=(Result&& other) noexcept {
        if (this != &other) {
            reset();
            has_value_ = other.has_value_;
            if (has_value_) {
                new (&value_) T(std::move(other.value_));
            } else {
                error_ = other.error_;
            }
        }
        return *this;
    }
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    constexpr ~Result() { reset(); }

    [[nodiscard]] constexpr bool has_value() const { return has_value_; }
    [[nodiscard]] constexpr bool ok() const { return has_value_; }
    constexpr explicit operator bool() const { return has_value_; }

    /// The value; only valid when has_value().
    [[nodiscard]] constexpr T& value() & { return value_; }
    [[nodiscard]] constexpr const T& value() const& { return value_; }
    [[nodiscard]] constexpr T&& value() && { return std::move(value_); }
    constexpr T& operator*() & { return value_; }
    constexpr T* operator->() { return &value_; }
    constexpr const T* operator->() const { return &value_; }

    /// The error; only valid when !has_value().
    [[nodiscard]] constexpr Error error() const { return error_; }
    [[nodiscard]] constexpr ErrorKind kind() const { return error_.kind; }

  private:
    constexpr void reset() {
        if (has_value_) {
            value_.~T();
            has_value_ = false;
        }
    }

    union {
        T value_;
        Error error_;
    };
    bool has_value_;
};

/// The outcome of an operation without a value.
class [[nodiscard]] Status {
  public:
    constexpr Status() = default;
    // NOLINTNEXTLINE(google-explicit-constructor)
    constexpr Status(Error error) : error_(error), ok_(false) {}
    [[nodiscard]] constexpr bool ok() const { return ok_; }
    [[nodiscard]] constexpr bool has_value() const { return ok_; }
    constexpr explicit operator bool() const { return ok_; }
    [[nodiscard]] constexpr Error error() const { return error_; }
    [[nodiscard]] constexpr ErrorKind kind() const { return error_.kind; }

  private:
    Error error_{};
    bool ok_ = true;
};

/// A minimal optional (std::optional is not freestanding in C++20).
template <typename T>
class Optional {
  public:
    constexpr Optional() : has_(false) {}
    // NOLINTNEXTLINE(google-explicit-constructor)
    constexpr Optional(T value) : value_(std::move(value)), has_(true) {}
    [[nodiscard]] constexpr bool has_value() const { return has_; }
    constexpr explicit operator bool() const { return has_; }
    [[nodiscard]] constexpr const T& value() const { return value_; }
    [[nodiscard]] constexpr T& value() { return value_; }
    constexpr const T& operator*() const { return value_; }
    constexpr const T* operator->() const { return &value_; }
    [[nodiscard]] constexpr T value_or(T other) const { return has_ ? value_ : other; }

  private:
    T value_{};
    bool has_;
};

struct NullOpt {};
inline constexpr NullOpt kNone{};

}  // namespace framealloc

/// Propagates an error from an expression yielding a Status or Result:
/// `FRAMEALLOC_TRY(status_expr);`.
#define FRAMEALLOC_TRY(expr)                \
    do {                                    \
        auto&& framealloc_try_ = (expr);    \
        if (!framealloc_try_.has_value()) { \
            return framealloc_try_.error(); \
        }                                   \
    } while (0)
