package nvml_test

import (
	"errors"
	"fmt"
	"log"

	gonvml "github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"

	"github.com/local-llm-bench/llmbench/nvml"
)

// Measuring the peak GPU memory and the energy of a run on a real machine. Without a driver,
// New returns ErrUnavailable and the run reports VRAM as unavailable.
func ExampleNew() {
	c, err := nvml.New()
	if errors.Is(err, nvml.ErrUnavailable) {
		fmt.Println("VRAM: unavailable:", err)
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	s, err := c.StartSampler() // this process, every GPU, every 10 ms
	if err != nil {
		log.Fatal(err)
	}
	// ... load the model and generate ...
	st, err := s.Stop()
	if err != nil {
		log.Print(err) // a read failed during the run; st holds the others
	}
	if st.ProcessSeen {
		fmt.Printf("peak VRAM %d MiB, ", st.PeakProcessBytes>>20)
	} else {
		fmt.Print("peak VRAM unavailable, ")
	}
	fmt.Printf("%.1f J (%v), mean %.0f W over %d samples\n", st.EnergyJ, st.EnergyMethod, st.MeanPowerW, st.Samples)
}

// Sampling a process on a mock DGX H100, the way tests run without a GPU.
func ExampleClient_StartSampler() {
	srv := dgxh100.New()
	for _, d := range srv.Devices {
		// The mock leaves out what the sampler reads besides memory.
		dev := d.(*server.Device)
		dev.GetComputeRunningProcessesFunc = func() ([]gonvml.ProcessInfo, gonvml.Return) {
			return []gonvml.ProcessInfo{{Pid: 1234, UsedGpuMemory: 2 << 30}}, gonvml.SUCCESS
		}
		dev.GetPowerUsageFunc = func() (uint32, gonvml.Return) { return 250_000, gonvml.SUCCESS }
		dev.GetTotalEnergyConsumptionFunc = func() (uint64, gonvml.Return) { return 0, gonvml.ERROR_NOT_SUPPORTED }
	}
	c, err := nvml.NewWithInterface(srv)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	s, err := c.StartSampler(nvml.WithPID(1234), nvml.WithGPUs(0, 1))
	if err != nil {
		log.Fatal(err)
	}
	st, err := s.Stop()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("peak VRAM of pid %d: %d MiB over %d GPUs\n", st.PID, st.PeakProcessBytes>>20, len(st.GPUs))
	fmt.Printf("peak power %.0f W, energy %v\n", st.PeakPowerW, st.EnergyMethod)
	// Output:
	// peak VRAM of pid 1234: 4096 MiB over 2 GPUs
	// peak power 500 W, energy integrated
}
