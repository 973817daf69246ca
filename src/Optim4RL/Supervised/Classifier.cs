using Optim4RL.Agents;
using Optim4RL.Autodiff;
using Optim4RL.Nn;
using Optim4RL.Optimizers;
using Optim4RL.Tensors;

namespace Optim4RL.Supervised;

/// <summary>One epoch of supervised training.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Updates">Optimizer updates so far.</param>
/// <param name="Loss">Mean cross-entropy over the epoch's mini-batches.</param>
/// <param name="TrainAccuracy">Mean mini-batch accuracy over the epoch.</param>
/// <param name="TestAccuracy">Accuracy on the held-out split after the epoch.</param>
public readonly record struct EpochLog(int Epoch, long Updates, double Loss, double TrainAccuracy, double TestAccuracy);

/// <summary>
/// A small MLP classifier (ReLU hidden layers, softmax cross-entropy) trained by mini-batch
/// gradient descent with any <see cref="IOptimizer"/>: the supervised counterpart of
/// <see cref="A2C"/> for the gradient-distribution contrast (the reference's <c>SLCollect</c>).
/// Each epoch visits a fresh permutation of the training set in full batches (the incomplete
/// last batch is skipped, as in the reference). <see cref="Observer"/> sees every update.
/// </summary>
public sealed class Classifier
{
    private readonly GaussianMixture _data;
    private readonly Mlp _mlp;
    private readonly IOptimizer _optimizer;
    private readonly OptimizerState _state;
    private readonly float[] _theta, _grad, _updates, _evalGrad;
    private readonly Graph<float> _train, _eval;
    private readonly Node<float> _x, _logits, _loss, _evalX, _evalLogits;
    private readonly int[] _labels, _order;
    private readonly int _batch;
    private Rng _rng;
    private long _updatesDone;
    private int _epoch;

    /// <summary>Builds the network (θ initialised LeCun-normal from <paramref name="rng"/>) and both graphs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The batch size is not in [1, train size] or a hidden size is not positive.</exception>
    public Classifier(GaussianMixture data, IReadOnlyList<int> hiddenSizes, IOptimizer optimizer, int batchSize, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, data.Config.TrainSize);
        _data = data;
        _optimizer = optimizer;
        _batch = batchSize;
        int d = data.Config.InputDim, k = data.Config.NumClasses;
        _mlp = new Mlp(d, hiddenSizes, k, Activation.Relu, name: "classifier");
        int p = _mlp.Layout.Count;
        _theta = new float[p];
        _grad = new float[p];
        _updates = new float[p];
        _evalGrad = new float[p];
        var init = rng.Split(0);
        _mlp.InitParams<float>(_theta, ref init);
        _rng = rng.Split(1);
        _state = optimizer.Init(p);

        _train = new Graph<float>();
        _x = _train.Input(batchSize, d);
        _logits = _mlp.Build(_train, _x, _theta, _grad, 0);
        _labels = _train.IndexInput(batchSize);
        _loss = _train.Scale(_train.Mean(_train.Gather(_train.LogSoftmax(_logits), _labels)), -1f);

        _eval = new Graph<float>();
        _evalX = _eval.Input(data.Config.TestSize, d);
        _evalLogits = _mlp.Build(_eval, _evalX, _theta, _evalGrad, 0);
        data.TestX.CopyTo(_evalX.Value.Span);

        _order = new int[data.Config.TrainSize];
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
    }

    /// <summary>P, the number of parameters.</summary>
    public int ParamCount => _theta.Length;

    /// <summary>The parameters θ.</summary>
    public ReadOnlySpan<float> Theta => _theta;

    /// <summary>Full mini-batches per epoch.</summary>
    public int BatchesPerEpoch => _data.Config.TrainSize / _batch;

    /// <summary>The mini-batch size (examples consumed per update).</summary>
    public int BatchSize => _batch;

    /// <summary>Optional observer of every update (gradient collection).</summary>
    public IUpdateObserver? Observer { get; set; }

    /// <summary>One epoch: a fresh permutation, one update per full mini-batch, then the held-out accuracy.</summary>
    /// <exception cref="TrainingDivergedException">The loss or the gradient is not finite.</exception>
    public EpochLog TrainEpoch()
    {
        _epoch++;
        int d = _data.Config.InputDim;
        for (int i = _order.Length - 1; i > 0; i--)
        {
            int j = _rng.NextInt(i + 1);
            (_order[i], _order[j]) = (_order[j], _order[i]);
        }

        double lossSum = 0, accSum = 0;
        int batches = BatchesPerEpoch;
        Span<float> x = _x.Value.Span;
        for (int b = 0; b < batches; b++)
        {
            for (int r = 0; r < _batch; r++)
            {
                int e = _order[b * _batch + r];
                _data.TrainX.AsSpan(e * d, d).CopyTo(x.Slice(r * d, d));
                _labels[r] = _data.TrainY[e];
            }

            _train.Forward();
            Array.Clear(_grad);
            _train.Backward(_loss);
            float loss = _loss.Value.Span[0];
            _updatesDone++;
            if (!float.IsFinite(loss) || !float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum<float>(_grad)))
                throw new TrainingDivergedException($"Supervised training diverged at update {_updatesDone}: the loss or gradient is NaN/Inf. Lower the learning rate.");
            lossSum += loss;
            accSum += Accuracy(_logits.Value.Span, _labels);
            _optimizer.Update(_grad, _state, _updates);
            System.Numerics.Tensors.TensorPrimitives.Add(_theta, _updates, _theta);
            Observer?.OnUpdate(_updatesDone, _updatesDone * _batch, _grad, _updates);
        }

        return new EpochLog(_epoch, _updatesDone, lossSum / batches, accSum / batches, TestAccuracy());
    }

    /// <summary>Accuracy of the current θ on the held-out split.</summary>
    public double TestAccuracy()
    {
        _eval.Forward();
        return Accuracy(_evalLogits.Value.Span, _data.TestY);
    }

    private double Accuracy(ReadOnlySpan<float> logits, int[] labels)
    {
        int k = _data.Config.NumClasses, correct = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            var row = logits.Slice(r * k, k);
            int best = 0;
            for (int a = 1; a < k; a++) if (row[a] > row[best]) best = a;
            if (best == labels[r]) correct++;
        }

        return (double)correct / labels.Length;
    }
}
