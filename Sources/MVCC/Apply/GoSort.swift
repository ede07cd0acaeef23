/// Go 1.16's `sort.Sort` (introsort: quicksort with median-of-three /
/// Tukey's ninther pivots, a gap-6 shell pass and insertion sort below 13
/// elements, heapsort past the depth limit), reproduced step for step.
///
/// etcd 3.5.1 (built with Go 1.16) sorts Range results with `sort.Sort`,
/// which is not stable: keys that tie on the sort target come back in an
/// order only this exact algorithm reproduces. Matching it keeps our answers
/// identical to etcd's, byte for byte.
public struct GoSort<Element> {
    var data: [Element]
    let less: (Element, Element) -> Bool

    public static func sorted(_ elements: [Element], by less: @escaping (Element, Element) -> Bool) -> [Element] {
        var s = GoSort(data: elements, less: less)
        s.quickSort(0, s.data.count, maxDepth: Self.maxDepth(s.data.count))
        return s.data
    }

    private func lt(_ i: Int, _ j: Int) -> Bool { less(data[i], data[j]) }
    private mutating func swap(_ i: Int, _ j: Int) { data.swapAt(i, j) }

    private static func maxDepth(_ n: Int) -> Int {
        var depth = 0
        var i = n
        while i > 0 { depth += 1; i >>= 1 }
        return depth * 2
    }

    private mutating func insertionSort(_ a: Int, _ b: Int) {
        var i = a + 1
        while i < b {
            var j = i
            while j > a && lt(j, j - 1) { swap(j, j - 1); j -= 1 }
            i += 1
        }
    }

    private mutating func siftDown(_ lo: Int, _ hi: Int, _ first: Int) {
        var root = lo
        while true {
            var child = 2 * root + 1
            if child >= hi { return }
            if child + 1 < hi && lt(first + child, first + child + 1) { child += 1 }
            if !lt(first + root, first + child) { return }
            swap(first + root, first + child)
            root = child
        }
    }

    private mutating func heapSort(_ a: Int, _ b: Int) {
        let first = a, hi = b - a
        var i = (hi - 1) / 2
        while i >= 0 { siftDown(i, hi, first); i -= 1 }
        i = hi - 1
        while i >= 0 { swap(first, first + i); siftDown(0, i, first); i -= 1 }
    }

    /// Moves the median of data[m0], data[m1], data[m2] into data[m1].
    private mutating func medianOfThree(_ m1: Int, _ m0: Int, _ m2: Int) {
        if lt(m1, m0) { swap(m1, m0) }
        if lt(m2, m1) {
            swap(m2, m1)
            if lt(m1, m0) { swap(m1, m0) }
        }
    }

    private mutating func doPivot(_ lo: Int, _ hi: Int) -> (Int, Int) {
        let m = Int(UInt(lo + hi) >> 1)
        if hi - lo > 40 {
            let s = (hi - lo) / 8
            medianOfThree(lo, lo + s, lo + 2 * s)
            medianOfThree(m, m - s, m + s)
            medianOfThree(hi - 1, hi - 1 - s, hi - 1 - 2 * s)
        }
        medianOfThree(lo, m, hi - 1)

        let pivot = lo
        var a = lo + 1, c = hi - 1
        while a < c && lt(a, pivot) { a += 1 }
        var b = a
        while true {
            while b < c && !lt(pivot, b) { b += 1 }
            while b < c && lt(pivot, c - 1) { c -= 1 }
            if b >= c { break }
            swap(b, c - 1)
            b += 1
            c -= 1
        }
        var protect = hi - c < 5
        if !protect && hi - c < (hi - lo) / 4 {
            var dups = 0
            if !lt(pivot, hi - 1) { swap(c, hi - 1); c += 1; dups += 1 }
            if !lt(b - 1, pivot) { b -= 1; dups += 1 }
            if !lt(m, pivot) { swap(m, b - 1); b -= 1; dups += 1 }
            protect = dups > 1
        }
        if protect {
            while true {
                while a < b && !lt(b - 1, pivot) { b -= 1 }
                while a < b && lt(a, pivot) { a += 1 }
                if a >= b { break }
                swap(a, b - 1)
                a += 1
                b -= 1
            }
        }
        swap(pivot, b - 1)
        return (b - 1, c)
    }

    private mutating func quickSort(_ a: Int, _ b: Int, maxDepth: Int) {
        var a = a, b = b, depth = maxDepth
        while b - a > 12 {
            if depth == 0 { heapSort(a, b); return }
            depth -= 1
            let (mlo, mhi) = doPivot(a, b)
            if mlo - a < b - mhi {
                quickSort(a, mlo, maxDepth: depth)
                a = mhi
            } else {
                quickSort(mhi, b, maxDepth: depth)
                b = mlo
            }
        }
        if b - a > 1 {
            var i = a + 6
            while i < b {
                if lt(i, i - 6) { swap(i, i - 6) }
                i += 1
            }
            insertionSort(a, b)
        }
    }
}
