using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Optim4RL.Tensors;

/// <summary>
/// Row-major matrix products: <c>C = α·op(A)·op(B) + β·C</c>. <c>float</c> goes to OpenBLAS's
/// <c>cblas_sgemm</c> and <c>double</c> to <c>cblas_dgemm</c> when a CBLAS library loads
/// (Debian's <c>libopenblas0-pthread</c> flavour first, then whatever <c>libopenblas.so.0</c> is; else <c>libblas.so.3</c>;
/// else <c>openblas</c> by the platform's search rules); otherwise, and for other element types,
/// a managed <see cref="Vector{T}"/> kernel (<see cref="ManagedGemm{T}"/>) does the work.
/// </summary>
/// <remarks>
/// The library is opened with <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/> and called
/// through unmanaged function pointers rather than <c>[DllImport]</c> with
/// <see cref="NativeLibrary.SetDllImportResolver"/>: an assembly has only one resolver slot, which
/// other native bindings (e.g. MuJoCo) may need. Calls allocate nothing on the managed heap. OpenBLAS
/// is asked to stay single-threaded (<c>OPENBLAS_NUM_THREADS=1</c> before loading, and
/// <c>openblas_set_num_threads(1)</c>) since callers parallelise over agents. On x86-64 with AVX2 and FMA it runs its Haswell kernels (<c>OPENBLAS_CORETYPE=Haswell</c>, unless the variable is already set), whatever the CPU: its AVX-512 kernels round differently, and the same seed must give the same numbers on every machine. The pthread flavour is
/// preferred because it is built with locking: Debian's serial flavour is built without
/// <c>USE_LOCKING</c>, and concurrent calls into it from several threads can race on its shared buffers. Set the environment variable <c>OPTIM4RL_BLAS=managed</c> to force the managed kernel.
/// </remarks>
internal static unsafe class Blas
{
    private const int RowMajor = 101;
    private const int NoTrans = 111;
    private const int Trans = 112;

    private static readonly delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> Sgemm;
    private static readonly delegate* unmanaged[Cdecl]<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> Dgemm;

    static Blas()
    {
        Backend = "managed";
        LibraryName = null;
        if (string.Equals(Environment.GetEnvironmentVariable("OPTIM4RL_BLAS"), "managed", StringComparison.OrdinalIgnoreCase)) return;
        if (OperatingSystem.IsLinux())
        {
            // No worker pool: every product runs on the calling thread (callers parallelise over agents).
            SetEnv("OPENBLAS_NUM_THREADS", "1", 0);
            // OpenBLAS picks its kernels by CPU model, and its AVX-512 kernels (SkylakeX, Cooperlake) round products
            // differently from the AVX2 ones: the same seed gave other numbers on an AVX-512 machine. Every x86-64 CPU
            // with AVX2 and FMA runs the Haswell kernels instead, so results agree across such machines.
            if (Avx2.IsSupported && Fma.IsSupported) SetEnv("OPENBLAS_CORETYPE", "Haswell", 0);
        }
        string arch = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "aarch64" : "x86_64";
        foreach (string name in new[] { $"/usr/lib/{arch}-linux-gnu/openblas-pthread/libopenblas.so.0", "libopenblas.so.0", "libblas.so.3", "openblas" })
        {
            if (!NativeLibrary.TryLoad(name, typeof(Blas).Assembly, null, out IntPtr lib)) continue;
            if (NativeLibrary.TryGetExport(lib, "cblas_sgemm", out IntPtr s) && NativeLibrary.TryGetExport(lib, "cblas_dgemm", out IntPtr d))
            {
                Sgemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)s;
                Dgemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)d;
                if (NativeLibrary.TryGetExport(lib, "openblas_set_num_threads", out IntPtr setThreads))
                {
                    ((delegate* unmanaged[Cdecl]<int, void>)setThreads)(1);
                }

                Backend = name.Contains("openblas-pthread", StringComparison.Ordinal) ? "openblas (pthread, locking)"
                    : name.Contains("openblas", StringComparison.Ordinal) ? "openblas" : "blas";
                LibraryName = name;
                return;
            }

            NativeLibrary.Free(lib);
        }
    }

    [DllImport("libc.so.6", EntryPoint = "setenv", CharSet = CharSet.Ansi)]
    private static extern int SetEnv(string name, string value, int overwrite);

    /// <summary>
    /// <c>"openblas (pthread, locking)"</c> or <c>"openblas"</c> when OpenBLAS was loaded, <c>"blas"</c> for another CBLAS library
    /// (<c>libblas.so.3</c>), <c>"managed"</c> when none loaded and every product runs in C#.
    /// </summary>
    public static string Backend { get; }

    /// <summary>The native library name that was loaded, or null for the managed backend.</summary>
    public static string? LibraryName { get; }

    /// <summary>
    /// Row-major GEMM: <c>C[m×n] = α·op(A)·op(B) + β·C</c>, with op(A) of shape [m×k] and op(B)
    /// of shape [k×n]. <c>op(X) = Xᵀ</c> when the matching flag is set; then X is stored [k×m]
    /// (resp. [n×k]). Leading dimensions are row strides. With β = 0, C's old contents are ignored
    /// (NaNs included), as in BLAS.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative, a leading dimension is too small, or a span is too short.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0 || Sgemm == null)
        {
            ManagedGemmCore(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }

        if (typeof(T) == typeof(float))
        {
            fixed (T* pa = a, pb = b, pc = c)
            {
                Sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k,
                    Unsafe.As<T, float>(ref alpha), (float*)pa, lda, (float*)pb, ldb, Unsafe.As<T, float>(ref beta), (float*)pc, ldc);
            }
        }
        else if (typeof(T) == typeof(double))
        {
            fixed (T* pa = a, pb = b, pc = c)
            {
                Dgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k,
                    Unsafe.As<T, double>(ref alpha), (double*)pa, lda, (double*)pb, ldb, Unsafe.As<T, double>(ref beta), (double*)pc, ldc);
            }
        }
        else
        {
            ManagedGemmCore(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        }
    }

    /// <summary>
    /// The managed GEMM, same contract as <see cref="Gemm{T}"/> (exposed for tests and for
    /// measurements against OpenBLAS). Register-blocked over 4 rows × 2 vectors of C with
    /// <see cref="Vector{T}"/>; a transposed B is first packed into a per-thread scratch buffer
    /// (allocated once per thread and size, then reused).
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative, a leading dimension is too small, or a span is too short.</exception>
    public static void ManagedGemm<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        ManagedGemmCore(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    private static void Check(bool transA, bool transB, int m, int n, int k, int aLen, int lda, int bLen, int ldb, int cLen, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Negative GEMM dimension: m={m}, n={n}, k={k}.");
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        if (lda < Math.Max(1, aCols)) throw new ArgumentException($"lda={lda} < {aCols} columns of A.", nameof(lda));
        if (ldb < Math.Max(1, bCols)) throw new ArgumentException($"ldb={ldb} < {bCols} columns of B.", nameof(ldb));
        if (ldc < Math.Max(1, n)) throw new ArgumentException($"ldc={ldc} < {n} columns of C.", nameof(ldc));
        if (m == 0 || n == 0) return;
        if (k > 0 && aLen < (long)(aRows - 1) * lda + aCols)
        {
            throw new ArgumentException($"A has {aLen} elements; [{aRows}×{aCols}] with lda={lda} needs {(long)(aRows - 1) * lda + aCols}.", "a");
        }

        if (k > 0 && bLen < (long)(bRows - 1) * ldb + bCols)
        {
            throw new ArgumentException($"B has {bLen} elements; [{bRows}×{bCols}] with ldb={ldb} needs {(long)(bRows - 1) * ldb + bCols}.", "b");
        }

        if (cLen < (long)(m - 1) * ldc + n)
        {
            throw new ArgumentException($"C has {cLen} elements; [{m}×{n}] with ldc={ldc} needs {(long)(m - 1) * ldc + n}.", "c");
        }
    }

    [ThreadStatic] private static float[]? packF;
    [ThreadStatic] private static double[]? packD;

    private static Span<T> PackBuffer<T>(int length) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            if (packF == null || packF.Length < length) packF = new float[Math.Max(length, 1024)];
            return MemoryMarshal.Cast<float, T>(packF.AsSpan(0, length));
        }

        if (typeof(T) == typeof(double))
        {
            if (packD == null || packD.Length < length) packD = new double[Math.Max(length, 1024)];
            return MemoryMarshal.Cast<double, T>(packD.AsSpan(0, length));
        }

        return new T[length];
    }

    private static void ManagedGemmCore<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // C ← β·C (β = 0 overwrites, as BLAS does).
        for (int i = 0; i < m; i++)
        {
            Span<T> row = c.Slice(i * ldc, n);
            if (beta == T.Zero) row.Clear();
            else if (beta != T.One)
            {
                for (int j = 0; j < n; j++) row[j] *= beta;
            }
        }

        if (k == 0 || alpha == T.Zero) return;

        // Make op(B) a contiguous row-major [k×n] matrix.
        ReadOnlySpan<T> bk;
        int ldbk;
        if (transB)
        {
            Span<T> packed = PackBuffer<T>(k * n);
            for (int j = 0; j < n; j++)
            {
                ReadOnlySpan<T> brow = b.Slice(j * ldb, k);
                for (int p = 0; p < k; p++) packed[p * n + j] = brow[p];
            }

            bk = packed;
            ldbk = n;
        }
        else
        {
            bk = b;
            ldbk = ldb;
        }

        // strideRow/strideCol: A(i, p) = a[i*sr + p*sc].
        int sr = transA ? 1 : lda, sc = transA ? lda : 1;
        ref T ra = ref MemoryMarshal.GetReference(a);
        ref T rb = ref MemoryMarshal.GetReference(bk);
        ref T rc = ref MemoryMarshal.GetReference(c);
        int w = Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? Vector<T>.Count : 0;

        int i0 = 0;
        for (; i0 + 4 <= m; i0 += 4)
        {
            int j = 0;
            if (w > 0)
            {
                for (; j + 2 * w <= n; j += 2 * w)
                {
                    Vector<T> c00 = Vector<T>.Zero, c01 = Vector<T>.Zero, c10 = Vector<T>.Zero, c11 = Vector<T>.Zero;
                    Vector<T> c20 = Vector<T>.Zero, c21 = Vector<T>.Zero, c30 = Vector<T>.Zero, c31 = Vector<T>.Zero;
                    for (int p = 0; p < k; p++)
                    {
                        nuint bo = (nuint)(p * ldbk + j);
                        Vector<T> b0 = Vector.LoadUnsafe(ref rb, bo);
                        Vector<T> b1 = Vector.LoadUnsafe(ref rb, bo + (nuint)w);
                        int ao = i0 * sr + p * sc;
                        var a0 = new Vector<T>(Unsafe.Add(ref ra, ao));
                        var a1 = new Vector<T>(Unsafe.Add(ref ra, ao + sr));
                        var a2 = new Vector<T>(Unsafe.Add(ref ra, ao + 2 * sr));
                        var a3 = new Vector<T>(Unsafe.Add(ref ra, ao + 3 * sr));
                        c00 += a0 * b0; c01 += a0 * b1;
                        c10 += a1 * b0; c11 += a1 * b1;
                        c20 += a2 * b0; c21 += a2 * b1;
                        c30 += a3 * b0; c31 += a3 * b1;
                    }

                    var va = new Vector<T>(alpha);
                    Store(ref rc, i0 * ldc + j, w, va, c00, c01);
                    Store(ref rc, (i0 + 1) * ldc + j, w, va, c10, c11);
                    Store(ref rc, (i0 + 2) * ldc + j, w, va, c20, c21);
                    Store(ref rc, (i0 + 3) * ldc + j, w, va, c30, c31);
                }

                for (; j + w <= n; j += w)
                {
                    Vector<T> c0 = Vector<T>.Zero, c1 = Vector<T>.Zero, c2 = Vector<T>.Zero, c3 = Vector<T>.Zero;
                    for (int p = 0; p < k; p++)
                    {
                        Vector<T> b0 = Vector.LoadUnsafe(ref rb, (nuint)(p * ldbk + j));
                        int ao = i0 * sr + p * sc;
                        c0 += new Vector<T>(Unsafe.Add(ref ra, ao)) * b0;
                        c1 += new Vector<T>(Unsafe.Add(ref ra, ao + sr)) * b0;
                        c2 += new Vector<T>(Unsafe.Add(ref ra, ao + 2 * sr)) * b0;
                        c3 += new Vector<T>(Unsafe.Add(ref ra, ao + 3 * sr)) * b0;
                    }

                    var va = new Vector<T>(alpha);
                    AddStore(ref rc, i0 * ldc + j, va * c0);
                    AddStore(ref rc, (i0 + 1) * ldc + j, va * c1);
                    AddStore(ref rc, (i0 + 2) * ldc + j, va * c2);
                    AddStore(ref rc, (i0 + 3) * ldc + j, va * c3);
                }
            }

            for (; j < n; j++)
            {
                for (int r = 0; r < 4; r++)
                {
                    T s = T.Zero;
                    int ao = (i0 + r) * sr;
                    for (int p = 0; p < k; p++) s += Unsafe.Add(ref ra, ao + p * sc) * Unsafe.Add(ref rb, p * ldbk + j);
                    Unsafe.Add(ref rc, (i0 + r) * ldc + j) += alpha * s;
                }
            }
        }

        for (; i0 < m; i0++)
        {
            int j = 0;
            if (w > 0)
            {
                for (; j + w <= n; j += w)
                {
                    Vector<T> c0 = Vector<T>.Zero;
                    for (int p = 0; p < k; p++)
                    {
                        c0 += new Vector<T>(Unsafe.Add(ref ra, i0 * sr + p * sc)) * Vector.LoadUnsafe(ref rb, (nuint)(p * ldbk + j));
                    }

                    AddStore(ref rc, i0 * ldc + j, new Vector<T>(alpha) * c0);
                }
            }

            for (; j < n; j++)
            {
                T s = T.Zero;
                for (int p = 0; p < k; p++) s += Unsafe.Add(ref ra, i0 * sr + p * sc) * Unsafe.Add(ref rb, p * ldbk + j);
                Unsafe.Add(ref rc, i0 * ldc + j) += alpha * s;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(ref T rc, int offset, int w, Vector<T> alpha, Vector<T> x0, Vector<T> x1)
    {
        AddStore(ref rc, offset, alpha * x0);
        AddStore(ref rc, offset + w, alpha * x1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddStore<T>(ref T rc, int offset, Vector<T> x)
    {
        Vector<T> old = Vector.LoadUnsafe(ref rc, (nuint)offset);
        Vector.StoreUnsafe(old + x, ref rc, (nuint)offset);
    }
}
