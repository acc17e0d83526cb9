// A non-owning view of a contiguous array (std::span is not freestanding in
// C++20). Used to pass region lists into init() without copying them.
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>

namespace framealloc {

template <typename T>
class Span {
  public:
    constexpr Span() = default;
    constexpr Span(T* data, std::size_t size) : data_(data), size_(size) {}
    template <std::size_t N>
    // NOLINTNEXTLINE(google-explicit-constructor): arrays convert like std::span.
    constexpr Span(T (&array)[N]) : data_(array), size_(N) {}
    template <typename U>
    requires std::is_convertible_v<U (*)[], T (*)[]>
    // NOLINTNEXTLINE(google-explicit-constructor): Span<U> -> Span<const U>.
    constexpr Span(Span<U> other) : data_(other.data()), size_(other.size()) {}
    /// Any contiguous container with data() and size() (std::vector, std::array, ...).
    /// A temporary works too; the span must then not outlive the full expression.
    template <typename C>
    requires(!std::is_same_v<std::remove_cvref_t<C>, Span>) && requires(C&& c) {
        { c.data() } -> std::convertible_to<T*>;
        { c.size() } -> std::convertible_to<std::size_t>;
    }
    // Spans themselves are excluded above, so copies still use the copy constructor.
    // NOLINTNEXTLINE(google-explicit-constructor,bugprone-forwarding-reference-overload)
    constexpr Span(C&& container) : data_(container.data()), size_(container.size()) {}

    [[nodiscard]] constexpr T* data() const { return data_; }
    [[nodiscard]] constexpr std::size_t size() const { return size_; }
    [[nodiscard]] constexpr bool empty() const { return size_ == 0; }
    constexpr T& operator[](std::size_t i) const { return data_[i]; }
    [[nodiscard]] constexpr T* begin() const { return data_; }
    [[nodiscard]] constexpr T* end() const { return data_ + size_; }

  private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace framealloc
