// An intrusive reference count for objects that have work in flight.
//
// An I/O provider (a stream, a listener, a dialer) is kept alive by its
// owner's reference and by every asynchronous handler that may still touch
// it.  The last release() destroys it, on whichever thread that happens.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace nnghttp::detail {

class ref_counted {
public:
    ref_counted() = default;
    ref_counted(const ref_counted&) = delete;
    ref_counted& operator=(const ref_counted&) = delete;

    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }

    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            destroy();
        }
    }

    // Whether the caller holds the only reference: nobody else can reach
    // the object, so it may be reused for something else.
    bool unshared() const noexcept { return refs_.load(std::memory_order_acquire) == 1; }

protected:
    virtual ~ref_counted() = default;
    // Called once the last reference is gone.  An object whose destructor
    // must not run on the releasing thread (e.g. inside one of its own
    // callbacks) overrides this to destroy it elsewhere.
    virtual void destroy() noexcept { delete this; }

private:
    std::atomic<std::uint32_t> refs_{1};
};

// A strong reference to a ref_counted object (like a tiny intrusive_ptr).
template <typename T> class ref_ptr {
public:
    ref_ptr() = default;
    // Adopts an existing reference (does not add one).
    static ref_ptr adopt(T* p) noexcept {
        ref_ptr r;
        r.p_ = p;
        return r;
    }
    // Takes a new reference.
    explicit ref_ptr(T* p) noexcept : p_(p) {
        if (p_ != nullptr) {
            p_->add_ref();
        }
    }
    ref_ptr(const ref_ptr& o) noexcept : ref_ptr(o.p_) {}
    ref_ptr(ref_ptr&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    ref_ptr& operator=(ref_ptr o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~ref_ptr() {
        if (p_ != nullptr) {
            p_->release();
        }
    }

    T* get() const noexcept { return p_; }
    T* operator->() const noexcept { return p_; }
    T& operator*() const noexcept { return *p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    // Gives up ownership without releasing.
    T* detach() noexcept { return std::exchange(p_, nullptr); }

private:
    T* p_ = nullptr;
};

template <typename T, typename... Args> ref_ptr<T> make_ref(Args&&... args) {
    return ref_ptr<T>::adopt(new T(std::forward<Args>(args)...));
}

} // namespace nnghttp::detail
