// swift-tools-version:6.0
// Layers, bottom to top: C system libraries → TensorCore → Collectives, Datasets, CheckpointFormats → TensorParallel
// → Models → Training, PerformanceModel (beside it: shapes, no kernels) → Tasks → Experiments → the `megatron` CLI. Nothing imports upward.
import PackageDescription

let package = Package(
    name: "megatron-swift",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "megatron", targets: ["megatron"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),

        .target(name: "TensorCore", dependencies: [
            "CBLAS",
            .product(name: "RealModule", package: "swift-numerics"),
        ]),

        .target(name: "CGEMMReference", dependencies: ["CBLAS"]),
        .target(name: "HDF5Files", dependencies: ["CHDF5"]),
        .target(name: "CheckpointFormats", dependencies: ["TensorCore"]),
        .target(name: "Collectives", dependencies: ["TensorCore", "CMPI"]),
        .target(name: "Datasets", dependencies: ["HDF5Files"]),
        .target(name: "TensorParallel", dependencies: ["TensorCore", "Collectives"]),
        .target(name: "Models", dependencies: ["TensorParallel", "Collectives", "TensorCore"]),
        .target(name: "Training", dependencies: ["Models", "TensorParallel", "Collectives", "TensorCore",
                                                 "HDF5Files", "Datasets", "CheckpointFormats"]),
        .target(name: "Tasks", dependencies: ["Models", "TensorParallel", "Collectives", "TensorCore", "Datasets"]),
        .target(name: "PerformanceModel", dependencies: ["Models", "TensorParallel", "Collectives"]),
        .target(name: "Experiments", dependencies: ["Training", "Tasks", "Models", "TensorParallel", "Collectives",
                                                    "Datasets", "PerformanceModel"]),

        .executableTarget(name: "megatron", dependencies: [
            "TensorCore",
            "CGEMMReference",
            "CheckpointFormats",
            "Collectives",
            "Datasets",
            "TensorParallel",
            "Models",
            "Training",
            "Experiments",
            "Tasks",
            "PerformanceModel",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
        .testTarget(name: "CollectivesTests", dependencies: ["Collectives", "TensorCore"]),
        .testTarget(name: "HDF5FilesTests", dependencies: ["HDF5Files"]),
        .testTarget(name: "CheckpointFormatsTests", dependencies: ["CheckpointFormats", "TensorCore"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "HDF5Files"], exclude: ["Golden"]),
        .testTarget(name: "TensorParallelTests", dependencies: ["TensorParallel", "Collectives", "TensorCore"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "TensorParallel", "Collectives", "TensorCore", "HDF5Files"],
                    exclude: ["Reference"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "TensorParallel", "Collectives",
                                                         "TensorCore", "HDF5Files", "Datasets"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Training", "Tasks", "Datasets", "Collectives",
                                                            "PerformanceModel", "Models", "TensorParallel", "TensorCore",
                                                            "CheckpointFormats", "HDF5Files"]),
        .testTarget(name: "PerformanceModelTests", dependencies: ["PerformanceModel", "Training", "Models", "TensorParallel",
                                                                  "Collectives", "TensorCore", "HDF5Files"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks", "Models", "TensorParallel", "Collectives", "TensorCore", "Datasets"]),
    ]
)
